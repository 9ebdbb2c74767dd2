#include "modalities/image/preprocess.h"

#include <algorithm>
#include <cmath>

#include "core/tensor/philox.h"

namespace chorus::image {
namespace {

// Philox stream offsets: each random decision of one sample reads its own words.
constexpr uint64_t kCropOffset = 0;    // 4 words per attempt, 10 attempts
constexpr uint64_t kFlipOffset = 100;  // 1 word

float uniform(uint64_t seed, uint64_t offset, uint64_t index) {
  return uniform_from_word(philox_word(seed, offset, index));
}

// Integer uniform in [lo, hi] (inclusive).
int uniform_int(uint64_t seed, uint64_t offset, uint64_t index, int lo, int hi) {
  const uint32_t span = static_cast<uint32_t>(hi - lo + 1);
  return lo + static_cast<int>(philox_word(seed, offset, index) % span);
}

}  // namespace

CropBox random_resized_crop_box(int height, int width, const PreprocessConfig& config,
                                uint64_t seed) {
  const double area = static_cast<double>(height) * width;
  const double log_r0 = std::log(config.crop_ratio[0]), log_r1 = std::log(config.crop_ratio[1]);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const uint64_t base = static_cast<uint64_t>(attempt) * 4;
    const double target =
        area * (config.crop_scale[0] +
                (config.crop_scale[1] - config.crop_scale[0]) * uniform(seed, kCropOffset, base));
    const double ratio =
        std::exp(log_r0 + (log_r1 - log_r0) * uniform(seed, kCropOffset, base + 1));
    const int w = static_cast<int>(std::lround(std::sqrt(target * ratio)));
    const int h = static_cast<int>(std::lround(std::sqrt(target / ratio)));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      return {uniform_int(seed, kCropOffset, base + 2, 0, height - h),
              uniform_int(seed, kCropOffset, base + 3, 0, width - w), h, w};
    }
  }
  // Fallback: central crop of the whole image, aspect ratio clamped into the range.
  const double in_ratio = static_cast<double>(width) / height;
  int w = width, h = height;
  if (in_ratio < config.crop_ratio[0]) {
    h = std::max(1, static_cast<int>(std::lround(w / config.crop_ratio[0])));
  } else if (in_ratio > config.crop_ratio[1]) {
    w = std::max(1, static_cast<int>(std::lround(h * config.crop_ratio[1])));
  }
  h = std::min(h, height);
  w = std::min(w, width);
  return {(height - h) / 2, (width - w) / 2, h, w};
}

PlanarImage to_planar(const RgbImage& image) {
  PlanarImage out{3, image.height, image.width, {}};
  out.data.resize(static_cast<size_t>(3) * image.height * image.width);
  const size_t plane = static_cast<size_t>(image.height) * image.width;
  for (size_t p = 0; p < plane; ++p) {
    for (int c = 0; c < 3; ++c) out.data[c * plane + p] = image.rgb[p * 3 + c] * (1.0f / 255.0f);
  }
  return out;
}

PlanarImage preprocess(const RgbImage& image, const PreprocessConfig& config, bool augment,
                       uint64_t seed) {
  PlanarImage img = to_planar(image);
  const int size = config.size;
  if (augment) {
    const CropBox box = random_resized_crop_box(img.height, img.width, config, seed);
    img = resize(crop(img, box.top, box.left, box.height, box.width), size, size, config.resize);
    if (uniform(seed, kFlipOffset, 0) < config.flip_probability) flip_horizontal(img);
  } else if (config.crop == CropMode::kStretch) {
    img = resize(img, size, size, config.resize);
  } else {
    // torchvision Resize(size): the shorter side becomes `size`, the longer one
    // int(size * long / short); then CenterCrop(size) at round((len - size) / 2) (Python
    // rounds ties to even, as nearbyint does).
    int h = size, w = size;
    if (img.width < img.height) {
      h = static_cast<int>(static_cast<int64_t>(size) * img.height / img.width);
    } else {
      w = static_cast<int>(static_cast<int64_t>(size) * img.width / img.height);
    }
    img = resize(img, h, w, config.resize);
    const int top = static_cast<int>(std::nearbyint((h - size) / 2.0));
    const int left = static_cast<int>(std::nearbyint((w - size) / 2.0));
    if (h != size || w != size) img = crop(img, top, left, size, size);
  }
  const size_t plane = static_cast<size_t>(img.height) * img.width;
  for (int c = 0; c < 3; ++c) {
    const float mean = config.mean[c], inv_std = 1.0f / config.std[c];
    float* p = &img.data[c * plane];
    for (size_t i = 0; i < plane; ++i) p[i] = (p[i] - mean) * inv_std;
  }
  return img;
}

}  // namespace chorus::image
