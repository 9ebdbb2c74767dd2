// The Decoder interface of the image modality: options, sample layout, metadata, collation.
#include "modalities/image/decoder.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace chorus::image {
namespace {

const std::string kDir = std::string(CHORUS_FIXTURE_DIR) + "/image/";

TEST(ImageDecoder, SchemaDefaultsAreWhatMakeUses) {
  auto decoder = make_image_decoder(nlohmann::json::object());
  ASSERT_TRUE(decoder.ok()) << decoder.status();
  const auto& d = static_cast<const ImageDecoder&>(**decoder);
  EXPECT_EQ(d.config().size, 224);
  EXPECT_EQ(d.config().resize, ResizeMode::kBicubic);
  EXPECT_EQ(d.limits().max_dimension, 8192);
  EXPECT_FLOAT_EQ(d.config().mean[0], 0.48145466f);
  for (const auto& spec : image_decoder_options()) EXPECT_FALSE(spec.default_value.is_null());
}

TEST(ImageDecoder, BadOptionsNameTheOption) {
  for (const auto& [opts, name] : std::vector<std::pair<nlohmann::json, std::string>>{
           {{{"size", 0}}, "size"},
           {{{"resize", "nearest"}}, "resize"},
           {{{"crop", "pad"}}, "crop"},
           {{{"mean", {0.5, 0.5}}}, "mean"},
           {{{"std", {0.5, 0.0, 0.5}}}, "std"},
           {{{"augment_scale", {0.9, 0.1}}}, "augment_scale"},
           {{{"augment_flip", 2.0}}, "augment_flip"},
           {{{"size", "big"}}, "image decoder options"}}) {
    auto decoder = make_image_decoder(opts);
    ASSERT_FALSE(decoder.ok()) << opts.dump();
    EXPECT_NE(decoder.status().message().find(name), std::string::npos) << decoder.status();
  }
}

TEST(ImageDecoder, FileAndBytesGiveTheSameSampleAndMetadata) {
  auto decoder = make_image_decoder({{"size", 28}});
  ASSERT_TRUE(decoder.ok());
  std::ifstream in(kDir + "rgb37x29.png", std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  auto a = (*decoder)->decode_file(kDir + "rgb37x29.png", {});
  auto b = (*decoder)->decode_bytes(bytes.str(), {});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->tensors.at("pixels").to_vector<float>(), b->tensors.at("pixels").to_vector<float>());
  EXPECT_EQ(a->tensors.at("pixels").shape(), (Shape{3, 28, 28}));
  EXPECT_EQ(a->metadata["width"], 37);
  EXPECT_EQ(a->metadata["height"], 29);
  EXPECT_EQ(a->metadata["channels"], 3);
  EXPECT_EQ(a->metadata["format"], "png");
  auto bad = (*decoder)->decode_bytes("GIF89a", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("image '<bytes>'"), std::string::npos) << bad.status();
}

TEST(ImageDecoder, CollateStacksSamplesInOrder) {
  auto decoder = make_image_decoder({{"size", 12}});
  ASSERT_TRUE(decoder.ok());
  auto a = (*decoder)->decode_file(kDir + "rgb37x29.png", {});
  auto b = (*decoder)->decode_file(kDir + "grey28.png", {});
  ASSERT_TRUE(a.ok() && b.ok());
  auto batch = (*decoder)->collate({*a, *b, *a});
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->size, 3);
  const Tensor& pixels = batch->tensors.at("pixels");
  ASSERT_EQ(pixels.shape(), (Shape{3, 3, 12, 12}));
  const auto all = pixels.to_vector<float>();
  const auto va = a->tensors.at("pixels").to_vector<float>();
  const auto vb = b->tensors.at("pixels").to_vector<float>();
  const size_t n = va.size();
  EXPECT_TRUE(std::equal(va.begin(), va.end(), all.begin()));
  EXPECT_TRUE(std::equal(vb.begin(), vb.end(), all.begin() + n));
  EXPECT_TRUE(std::equal(va.begin(), va.end(), all.begin() + 2 * n));

  auto other = make_image_decoder({{"size", 10}});
  auto c = (*other)->decode_file(kDir + "grey28.png", {});
  auto mixed = (*decoder)->collate({*a, *c});
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.status().message().find("sample 1"), std::string::npos) << mixed.status();
  EXPECT_FALSE((*decoder)->collate({}).ok());
}

}  // namespace
}  // namespace chorus::image
