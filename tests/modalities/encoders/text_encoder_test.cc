// The text encoder: shapes, padding invariance for each pooling, gradients, seeding, state
// dicts and bad batches.
#include <gtest/gtest.h>

#include <filesystem>

#include "encoder_checks.h"
#include "modalities/text/decoder.h"
#include "modalities/text/encoder.h"

namespace chorus::text {
namespace {

using chorus::testing::AllClose;
using chorus::testing::ExpectGradientsMatchFiniteDifferences;

plugin::EncoderConfig tiny(const std::string& pooling = "mean", uint64_t seed = 3) {
  plugin::EncoderConfig c;
  c.shared_width = 12;
  c.seed = seed;
  c.options = {{"width", 16},  {"depth", 2},       {"heads", 2},
               {"ff_mult", 2}, {"max_length", 16}, {"pooling", pooling}};
  return c;
}

std::unique_ptr<plugin::Encoder> make(const plugin::EncoderConfig& c) {
  auto e = make_text_encoder(c);
  EXPECT_TRUE(e.ok()) << e.status();
  return e.ok() ? std::move(*e) : nullptr;
}

data::Batch batch_of(const std::vector<std::string>& texts) {
  auto dec = make_text_decoder({{"max_length", 16}});
  std::vector<data::Sample> samples;
  for (const auto& t : texts) samples.push_back(*(*dec)->decode_bytes(t, {}));
  return *(*dec)->collate(samples);
}

TEST(TextEncoder, ShapesAndDefaults) {
  auto schema = text_encoder_options();
  auto enc = make(plugin::EncoderConfig{});  // all defaults, D = 2048
  ASSERT_NE(enc, nullptr);
  EXPECT_EQ(enc->shared_width(), 2048);
  EXPECT_EQ(static_cast<TextEncoder&>(*enc).vocab_size(), kByteVocab);
  auto out = enc->encode(batch_of({"a photo of a sandal", "a bag"}));
  ASSERT_TRUE(out.ok()) << out.status();
  // 21 tokens with <bos>/<eos>, truncated to the decoder's max_length of 16.
  EXPECT_EQ(out->tokens.shape(), (Shape{2, 16, 2048}));
  EXPECT_EQ(out->mask.shape(), (Shape{2, 16}));
  EXPECT_EQ(out->pooled.shape(), (Shape{2, 2048}));
}

TEST(TextEncoder, PaddingDoesNotChangeRealTokensOrPooled) {
  for (const char* pooling : {"mean", "cls", "eos"}) {
    SCOPED_TRACE(pooling);
    auto enc = make(tiny(pooling));
    enc->eval();
    auto alone = enc->encode(batch_of({"a bag"}));
    auto padded = enc->encode(batch_of({"a longer caption here", "a bag"}));
    ASSERT_TRUE(alone.ok() && padded.ok());
    EXPECT_TRUE(AllClose(padded->pooled.select(0, 1), alone->pooled.select(0, 0), 1e-5, 1e-4));
    const int64_t T = alone->tokens.size(1);
    EXPECT_TRUE(AllClose(padded->tokens.select(0, 1).narrow(0, 0, T), alone->tokens.select(0, 0),
                         1e-5, 1e-4));
    // And the pooled vectors differ between captions (the encoder sees its input).
    EXPECT_FALSE(AllClose(padded->pooled.select(0, 0), padded->pooled.select(0, 1), 1e-3, 0));
  }
}

TEST(TextEncoder, PoolingPicksTheDocumentedToken) {
  for (const char* pooling : {"cls", "eos"}) {
    auto enc = make(tiny(pooling));
    auto out = enc->encode(batch_of({"abc", "a"}));
    ASSERT_TRUE(out.ok());
    const int64_t row1_last = 2;  // <bos> a <eos> <pad> <pad>
    const Tensor want = std::string(pooling) == "cls"
                            ? out->tokens.select(0, 1).select(0, 0)
                            : out->tokens.select(0, 1).select(0, row1_last);
    EXPECT_TRUE(AllClose(out->pooled.select(0, 1), want, 0, 0)) << pooling;
  }
}

TEST(TextEncoder, GradientsReachEveryParameter) {
  auto enc = make(tiny("eos"));
  enc->to(DType::kF64);
  ExpectGradientsMatchFiniteDifferences(*enc, batch_of({"ab a", "b"}));
}

TEST(TextEncoder, SeedDeterminesInitialisation) {
  auto a = make(tiny("mean", 5)), b = make(tiny("mean", 5)), c = make(tiny("mean", 6));
  chorus::testing::ExpectSeededInit(*a, *b, *c);
}

TEST(TextEncoder, StateDictRoundTrip) {
  auto a = make(tiny("mean", 1)), b = make(tiny("mean", 2));
  const auto path = std::filesystem::temp_directory_path() /
                    ("chorus_text_enc_" + std::to_string(::getpid()) + ".safetensors");
  ASSERT_TRUE(a->save(path.string()).ok());
  ASSERT_TRUE(b->load(path.string()).ok());
  std::filesystem::remove(path);
  const data::Batch batch = batch_of({"a coat", "a dress"});
  auto ya = a->encode(batch), yb = b->encode(batch);
  ASSERT_TRUE(ya.ok() && yb.ok());
  EXPECT_TRUE(AllClose(ya->pooled, yb->pooled, 0, 0));
  EXPECT_TRUE(AllClose(ya->tokens, yb->tokens, 0, 0));
}

TEST(TextEncoder, BadBatchesGiveClearErrors) {
  auto enc = make(tiny());
  auto expect = [&](const data::Batch& b, const std::string& needle) {
    auto out = enc->encode(b);
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.status().message().find(needle), std::string::npos) << out.status();
  };
  data::Batch b;
  b.size = 1;
  b.tensors["pixels"] = Tensor::zeros({1, 3});
  expect(b, "no \"ids\"");
  b.tensors["ids"] = Tensor::zeros({4}, DType::kI64);
  expect(b, "2 dims");
  b.tensors["ids"] = Tensor::full({1, 3}, 999, DType::kI64);
  expect(b, "vocabulary");
  b.tensors["ids"] = Tensor::zeros({1, 17}, DType::kI64);
  expect(b, "max_length");
  b.tensors["ids"] = Tensor::zeros({1, 3}, DType::kF32);
  expect(b, "i64");
  b.tensors["ids"] = Tensor::zeros({1, 3}, DType::kI64);
  b.tensors["mask"] = Tensor::ones({1, 4}, DType::kU8);
  expect(b, "mask");
}

TEST(TextEncoder, BadOptionsAreNamed) {
  plugin::EncoderConfig c = tiny();
  c.options["heads"] = 3;  // does not divide 16
  auto r = make_text_encoder(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("heads"), std::string::npos) << r.status();
  c = tiny("max");
  r = make_text_encoder(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("pooling"), std::string::npos) << r.status();
}

}  // namespace
}  // namespace chorus::text
