// The audio encoder (conv and patch front-ends): shapes, exact masking (a clip alone equals the
// same clip padded in a batch), mask downsampling, gradients, seeding, state dicts, bad batches.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/ops/join.h"
#include "encoder_checks.h"
#include "modalities/audio/encoder.h"

namespace chorus::audio {
namespace {

using chorus::testing::AllClose;
using chorus::testing::ExpectGradientsMatchFiniteDifferences;
using chorus::testing::uniform;

plugin::EncoderConfig tiny(const std::string& frontend, int64_t stride,
                           const std::string& pooling = "mean", uint64_t seed = 3) {
  plugin::EncoderConfig c;
  c.shared_width = 10;
  c.seed = seed;
  c.options = {{"n_mels", 6},      {"frontend", frontend}, {"stride", stride},
               {"max_frames", 40}, {"width", 16},          {"depth", 1},
               {"heads", 2},       {"ff_mult", 2},         {"pooling", pooling}};
  return c;
}

std::unique_ptr<plugin::Encoder> make(const plugin::EncoderConfig& c) {
  auto e = make_audio_encoder(c);
  EXPECT_TRUE(e.ok()) << e.status();
  return e.ok() ? std::move(*e) : nullptr;
}

data::Batch mel_batch(const Tensor& mel, const Tensor& mask = Tensor()) {
  data::Batch b;
  b.size = mel.size(0);
  b.tensors["mel"] = mel;
  if (mask.defined()) b.tensors["mask"] = mask;
  return b;
}

TEST(AudioEncoder, DownsampleMaskMarksTokensWithAnyRealFrame) {
  const Tensor m = Tensor::from_vector<uint8_t>({1, 1, 1, 1, 1, 0, 0, 0, 0,  //
                                                 0, 1, 0, 0, 0, 0, 0, 0, 0},
                                                {2, 9});
  EXPECT_EQ(downsample_mask(m, 4).to_vector<int>(), (std::vector<int>{1, 1, 0, 1, 0, 0}));
  EXPECT_EQ(downsample_mask(m, 2).shape(), (Shape{2, 5}));
}

TEST(AudioEncoder, DefaultsAndShapes) {
  auto enc = make(plugin::EncoderConfig{});
  ASSERT_NE(enc, nullptr);
  auto out = enc->encode(mel_batch(uniform({2, 80, 101}, -1, 1, DType::kF32)));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->tokens.shape(), (Shape{2, 26, 2048}));  // ceil(101 / 4)
  EXPECT_EQ(out->pooled.shape(), (Shape{2, 2048}));
}

TEST(AudioEncoder, PaddedClipEncodesLikeTheClipAlone) {
  struct Case {
    const char* frontend;
    int64_t stride;
    const char* pooling;
  };
  for (const Case& c : {Case{"conv", 4, "mean"}, Case{"conv", 1, "mean"}, Case{"conv", 2, "cls"},
                        Case{"patch", 4, "mean"}, Case{"patch", 3, "cls"}}) {
    SCOPED_TRACE(std::string(c.frontend) + " stride " + std::to_string(c.stride) + " " + c.pooling);
    auto enc = make(tiny(c.frontend, c.stride, c.pooling));
    const int64_t short_len = 13, long_len = 30;
    const Tensor clip = uniform({1, 6, short_len}, -1, 1, DType::kF32, 21);
    auto alone = enc->encode(mel_batch(clip));
    // Padding frames hold garbage, not zeros: the mask alone must keep them out.
    const Tensor padded_clip =
        concat({clip, uniform({1, 6, long_len - short_len}, 5, 9, DType::kF32, 22)}, 2);
    const Tensor other = uniform({1, 6, long_len}, -1, 1, DType::kF32, 23);
    std::vector<uint8_t> mask(2 * long_len, 1);
    for (int64_t t = short_len; t < long_len; ++t) mask[long_len + t] = 0;
    auto batch = enc->encode(mel_batch(concat({other, padded_clip}, 0),
                                       Tensor::from_vector<uint8_t>(mask, {2, long_len})));
    ASSERT_TRUE(alone.ok() && batch.ok()) << alone.status() << batch.status();
    EXPECT_TRUE(AllClose(batch->pooled.narrow(0, 1, 1), alone->pooled, 1e-5, 1e-4));
    const int64_t T = alone->tokens.size(1);
    EXPECT_EQ(alone->mask.to_vector<int>(), std::vector<int>(T, 1));
    EXPECT_EQ(batch->mask.select(0, 1).to_vector<int>(), [&] {
      std::vector<int> want(static_cast<size_t>(batch->mask.size(1)), 0);
      for (int64_t t = 0; t < T; ++t) want[t] = 1;
      return want;
    }());
    EXPECT_TRUE(AllClose(batch->tokens.narrow(0, 1, 1).narrow(1, 0, T), alone->tokens, 1e-5, 1e-4));
  }
}

TEST(AudioEncoder, GradientsReachEveryParameter) {
  for (const char* frontend : {"conv", "patch"}) {
    SCOPED_TRACE(frontend);
    auto enc = make(tiny(frontend, 2, frontend == std::string("conv") ? "cls" : "mean"));
    enc->to(DType::kF64);
    std::vector<uint8_t> mask(2 * 9, 1);
    for (int t = 6; t < 9; ++t) mask[t] = 0;
    ExpectGradientsMatchFiniteDifferences(
        *enc, mel_batch(uniform({2, 6, 9}), Tensor::from_vector<uint8_t>(mask, {2, 9})));
  }
}

TEST(AudioEncoder, SeedDeterminesInitialisation) {
  auto a = make(tiny("conv", 4, "mean", 5)), b = make(tiny("conv", 4, "mean", 5)),
       c = make(tiny("conv", 4, "mean", 6));
  chorus::testing::ExpectSeededInit(*a, *b, *c);
}

TEST(AudioEncoder, StateDictRoundTrip) {
  auto a = make(tiny("patch", 4, "cls", 1)), b = make(tiny("patch", 4, "cls", 2));
  const auto path = std::filesystem::temp_directory_path() /
                    ("chorus_audio_enc_" + std::to_string(::getpid()) + ".safetensors");
  ASSERT_TRUE(a->save(path.string()).ok());
  ASSERT_TRUE(b->load(path.string()).ok());
  std::filesystem::remove(path);
  const data::Batch batch = mel_batch(uniform({2, 6, 20}, -1, 1, DType::kF32));
  EXPECT_TRUE(AllClose(a->encode(batch)->pooled, b->encode(batch)->pooled, 0, 0));
}

TEST(AudioEncoder, BadBatchesGiveClearErrors) {
  auto enc = make(tiny("conv", 4));
  auto expect = [&](const data::Batch& b, const std::string& needle) {
    auto out = enc->encode(b);
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.status().message().find(needle), std::string::npos) << out.status();
  };
  data::Batch none;
  none.tensors["pixels"] = Tensor::zeros({1, 3, 8, 8});
  expect(none, "no \"mel\"");
  expect(mel_batch(Tensor::zeros({6, 10})), "3 dims");
  expect(mel_batch(Tensor::zeros({1, 7, 10})), "mel bins");
  expect(mel_batch(Tensor::zeros({1, 6, 41})), "max_frames");
  expect(mel_batch(Tensor::zeros({1, 6, 10}), Tensor::ones({1, 9}, DType::kU8)), "mask");
  expect(mel_batch(Tensor::zeros({1, 6, 10}), Tensor::ones({1, 10}, DType::kF32)), "u8");
  auto r = make_audio_encoder(tiny("conv", 3));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("power of two"), std::string::npos) << r.status();
}

}  // namespace
}  // namespace chorus::audio
