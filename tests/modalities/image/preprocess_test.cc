// Preprocessing against PyTorch (tools/fixtures/make_image_golden.py: interpolate with
// align_corners=False, torchvision's Resize/CenterCrop geometry, CLIP normalisation), and the
// seeded augmentation's determinism and ranges.
#include "modalities/image/preprocess.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "modalities/image/decoder.h"
#include "nlohmann/json.hpp"

namespace chorus::image {
namespace {

const std::string kDir = std::string(CHORUS_FIXTURE_DIR) + "/image/";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Preprocess, MatchesTorchReference) {
  const auto golden = nlohmann::json::parse(slurp(kDir + "golden.json"));
  for (const auto& c : golden["cases"]) {
    const std::string label = c["file"].get<std::string>() + " size " +
                              std::to_string(c["size"].get<int>()) + " " +
                              c["resize"].get<std::string>() + " " + c["crop"].get<std::string>();
    auto decoder =
        make_image_decoder({{"size", c["size"]}, {"resize", c["resize"]}, {"crop", c["crop"]}});
    ASSERT_TRUE(decoder.ok()) << decoder.status();
    auto sample = (*decoder)->decode_file(kDir + c["file"].get<std::string>(), {});
    ASSERT_TRUE(sample.ok()) << sample.status();
    const Tensor& pixels = sample->tensors.at("pixels");
    const auto expected = c["pixels"].get<std::vector<double>>();
    ASSERT_EQ(pixels.shape(), c["shape"].get<Shape>()) << label;
    const float* got = pixels.data<float>();
    double max_err = 0;
    for (size_t i = 0; i < expected.size(); ++i) {
      max_err = std::max(max_err, std::abs(got[i] - expected[i]));
    }
    // Normalised values span about [-2, 2.2]; float32 rounding of both sides stays near 1e-6.
    EXPECT_LT(max_err, 2e-5) << label;
  }
}

TEST(Preprocess, ResizeToTheSameSizeIsIdentity) {
  PlanarImage img{1, 3, 4, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}};
  for (ResizeMode mode : {ResizeMode::kBilinear, ResizeMode::kBicubic}) {
    EXPECT_EQ(resize(img, 3, 4, mode).data, img.data);
  }
}

TEST(Preprocess, ConstantImageStaysConstantUnderResize) {
  PlanarImage img{1, 5, 7, std::vector<float>(35, 0.25f)};
  for (ResizeMode mode : {ResizeMode::kBilinear, ResizeMode::kBicubic}) {
    for (float v : resize(img, 11, 3, mode).data) EXPECT_NEAR(v, 0.25f, 1e-6);
  }
}

RgbImage ramp(int w, int h) {
  RgbImage img{w, h, 3, "png", std::vector<uint8_t>(static_cast<size_t>(w) * h * 3)};
  for (size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = static_cast<uint8_t>((i * 37) % 251);
  return img;
}

TEST(Augment, SameSeedSameOutputDifferentSeedDifferentOutput) {
  PreprocessConfig config;
  config.size = 16;
  const RgbImage img = ramp(40, 30);
  const PlanarImage a = preprocess(img, config, true, 11);
  const PlanarImage b = preprocess(img, config, true, 11);
  EXPECT_EQ(a.data, b.data);
  int differing = 0;
  for (uint64_t seed = 12; seed < 20; ++seed) {
    differing += preprocess(img, config, true, seed).data != a.data;
  }
  EXPECT_GE(differing, 7);
  EXPECT_EQ(preprocess(img, config, false, 1).data, preprocess(img, config, false, 2).data);
}

TEST(Augment, CropBoxesRespectScaleAndRatioRanges) {
  PreprocessConfig config;
  config.crop_scale = {0.3f, 0.6f};
  config.crop_ratio = {0.8f, 1.25f};
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const CropBox box = random_resized_crop_box(100, 120, config, seed);
    ASSERT_GE(box.top, 0);
    ASSERT_GE(box.left, 0);
    ASSERT_LE(box.top + box.height, 100);
    ASSERT_LE(box.left + box.width, 120);
    const double area = static_cast<double>(box.height) * box.width / (100.0 * 120.0);
    EXPECT_GE(area, 0.3 - 0.03) << seed;  // rounding of w and h to whole pixels
    EXPECT_LE(area, 0.6 + 0.03) << seed;
    const double ratio = static_cast<double>(box.width) / box.height;
    EXPECT_GE(ratio, 0.8 * 0.95) << seed;
    EXPECT_LE(ratio, 1.25 * 1.05) << seed;
  }
}

TEST(Augment, FlipProbabilityOneMirrorsAFullCrop) {
  PreprocessConfig config;
  config.size = 8;
  config.crop_scale = {1.0f, 1.0f};
  config.crop_ratio = {1.0f, 1.0f};  // square 8x8 source: the crop is the whole image
  config.flip_probability = 1.0f;
  const RgbImage img = ramp(8, 8);
  const PlanarImage flipped = preprocess(img, config, true, 3);
  const PlanarImage plain = preprocess(img, config, false, 3);
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 8; ++y) {
      for (int x = 0; x < 8; ++x) ASSERT_EQ(flipped.at(c, y, x), plain.at(c, y, 7 - x));
    }
  }
}

}  // namespace
}  // namespace chorus::image
