// The image encoder (vit and conv front-ends): shapes, batch independence, position table
// corners for smaller images, gradients, seeding, state dicts and bad batches.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "core/ops/join.h"
#include "encoder_checks.h"
#include "modalities/image/encoder.h"

namespace chorus::image {
namespace {

using chorus::testing::AllClose;
using chorus::testing::ExpectGradientsMatchFiniteDifferences;
using chorus::testing::uniform;

plugin::EncoderConfig tiny(const std::string& arch, const std::string& pooling = "mean",
                           uint64_t seed = 3) {
  plugin::EncoderConfig c;
  c.shared_width = 10;
  c.seed = seed;
  c.options = {{"arch", arch}, {"size", 8},    {"patch_size", 4},    {"width", 16},  {"depth", 1},
               {"heads", 2},   {"ff_mult", 2}, {"pooling", pooling}, {"channels", 3}};
  return c;
}

std::unique_ptr<plugin::Encoder> make(const plugin::EncoderConfig& c) {
  auto e = make_image_encoder(c);
  EXPECT_TRUE(e.ok()) << e.status();
  return e.ok() ? std::move(*e) : nullptr;
}

data::Batch pixels(const Tensor& x) {
  data::Batch b;
  b.size = x.size(0);
  b.tensors["pixels"] = x;
  return b;
}

TEST(ImageEncoder, DefaultsAndShapes) {
  for (const char* arch : {"vit", "conv"}) {
    plugin::EncoderConfig c;
    c.options = {{"arch", arch}, {"size", 32}, {"patch_size", 4}};
    auto enc = make(c);
    ASSERT_NE(enc, nullptr);
    auto out = enc->encode(pixels(uniform({2, 3, 32, 32}, -1, 1, DType::kF32)));
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out->tokens.shape(), (Shape{2, 65, 2048})) << arch;  // CLS + 8x8 patches
    EXPECT_EQ(out->pooled.shape(), (Shape{2, 2048}));
    EXPECT_EQ(out->mask.to_vector<int>(), std::vector<int>(130, 1));
  }
}

TEST(ImageEncoder, ConvStemRoundsOddSizesUp) {
  auto enc = make(tiny("conv"));
  auto out = enc->encode(pixels(uniform({1, 3, 7, 5}, -1, 1, DType::kF32)));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->tokens.shape(), (Shape{1, 1 + 2 * 2, 10}));  // 7x5 -> 4x3 -> 2x2
}

TEST(ImageEncoder, EachImageIsEncodedIndependently) {
  for (const char* arch : {"vit", "conv"}) {
    for (const char* pooling : {"cls", "mean"}) {
      auto enc = make(tiny(arch, pooling));
      const Tensor x = uniform({3, 3, 8, 8}, -1, 1, DType::kF32);
      auto all = enc->encode(pixels(x));
      auto one = enc->encode(pixels(x.narrow(0, 1, 1).contiguous()));
      ASSERT_TRUE(all.ok() && one.ok());
      EXPECT_TRUE(AllClose(all->pooled.narrow(0, 1, 1), one->pooled, 1e-5, 1e-4))
          << arch << " " << pooling;
      EXPECT_FALSE(AllClose(all->pooled.select(0, 0), all->pooled.select(0, 1), 1e-3, 0));
    }
  }
}

TEST(ImageEncoder, SmallerImagesUseTheTopLeftPositions) {
  // A 4x4 image is a 1x1 grid: it must use position row 1 (cell (0, 0)) and no other cell's.
  auto enc = make(tiny("vit"));
  auto& ie = static_cast<ImageEncoder&>(*enc);
  const Tensor x = uniform({1, 3, 4, 4}, -1, 1, DType::kF32);
  auto before = enc->encode(pixels(x));
  ie.pos->weight.narrow(0, 2, 3).fill_(7.0);  // rows of grid cells (0,1), (1,0), (1,1)
  auto after = enc->encode(pixels(x));
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_TRUE(AllClose(before->pooled, after->pooled, 0, 0));
  ie.pos->weight.narrow(0, 1, 1).fill_(7.0);  // cell (0, 0) is the one it uses
  auto changed = enc->encode(pixels(x));
  EXPECT_FALSE(AllClose(before->pooled, changed->pooled, 1e-3, 0));
}

TEST(ImageEncoder, GradientsReachEveryParameter) {
  for (const char* arch : {"vit", "conv"}) {
    SCOPED_TRACE(arch);
    auto enc = make(tiny(arch, "cls"));
    enc->to(DType::kF64);
    ExpectGradientsMatchFiniteDifferences(*enc, pixels(uniform({2, 3, 8, 8})));
  }
}

TEST(ImageEncoder, SeedDeterminesInitialisation) {
  for (const char* arch : {"vit", "conv"}) {
    auto a = make(tiny(arch, "mean", 5)), b = make(tiny(arch, "mean", 5)),
         c = make(tiny(arch, "mean", 6));
    chorus::testing::ExpectSeededInit(*a, *b, *c);
  }
}

TEST(ImageEncoder, StateDictRoundTrip) {
  auto a = make(tiny("conv", "mean", 1)), b = make(tiny("conv", "mean", 2));
  std::vector<std::string> names;
  for (const auto& [name, t] : a->state_dict()) names.push_back(name);
  for (const char* want : {"cls", "stem.0.conv.weight", "stem.1.norm.bias", "pos.weight",
                           "transformer.blocks.0.attn.q.weight", "head.proj.weight"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }
  const auto path = std::filesystem::temp_directory_path() /
                    ("chorus_image_enc_" + std::to_string(::getpid()) + ".safetensors");
  ASSERT_TRUE(a->save(path.string()).ok());
  ASSERT_TRUE(b->load(path.string()).ok());
  std::filesystem::remove(path);
  const data::Batch batch = pixels(uniform({2, 3, 8, 8}, -1, 1, DType::kF32));
  EXPECT_TRUE(AllClose(a->encode(batch)->pooled, b->encode(batch)->pooled, 0, 0));
}

TEST(ImageEncoder, BadBatchesGiveClearErrors) {
  auto enc = make(tiny("vit"));
  auto expect = [&](const data::Batch& b, const std::string& needle) {
    auto out = enc->encode(b);
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.status().message().find(needle), std::string::npos) << out.status();
  };
  data::Batch none;
  none.tensors["mel"] = Tensor::zeros({1, 80, 10});
  expect(none, "no \"pixels\"");
  expect(pixels(Tensor::zeros({3, 8, 8})), "4 dims");
  expect(pixels(Tensor::zeros({1, 1, 8, 8})), "channels");
  expect(pixels(Tensor::zeros({1, 3, 16, 8})), "position table");
  expect(pixels(Tensor::zeros({1, 3, 2, 8})), "smaller than one patch");
  expect(pixels(Tensor::zeros({1, 3, 8, 8}, DType::kU8)), "floating");
  plugin::EncoderConfig c = tiny("conv");
  c.options["patch_size"] = 6;
  auto r = make_image_encoder(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("power of two"), std::string::npos) << r.status();
}

}  // namespace
}  // namespace chorus::image
