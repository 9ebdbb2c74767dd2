// libFuzzer target: arbitrary bytes through the image decoder (stb_image behind our header
// checks) and the preprocessing it feeds, with augmentation driven by the input's first bytes.
// Any input must give an error status or a finite image; crashes, leaks and UB are findings.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "modalities/image/image_io.h"
#include "modalities/image/preprocess.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chorus::image;
  // Small limits keep each run fast; the limit logic itself is exercised all the same.
  ImageLimits limits;
  limits.max_dimension = 1024;
  limits.max_pixels = 1 << 18;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto image = decode_image(bytes, limits);
  if (!image.ok()) return 0;
  if (image->rgb.size() != static_cast<size_t>(image->width) * image->height * 3) std::abort();
  PreprocessConfig config;
  config.size = 12;
  config.resize = size % 2 ? ResizeMode::kBicubic : ResizeMode::kBilinear;
  config.crop = size % 3 ? CropMode::kCenter : CropMode::kStretch;
  const uint64_t seed = size >= 8 ? data[size - 1] * 131u + data[size / 2] : size;
  const PlanarImage out = preprocess(*image, config, (seed & 4) != 0, seed);
  if (out.data.size() != 3u * 12 * 12) std::abort();
  for (float v : out.data) {
    if (!std::isfinite(v)) std::abort();
  }
  return 0;
}
