// Shared encoder pieces: option resolution and masked pooling against hand-computed values.
#include <gtest/gtest.h>

#include "modalities/common/options.h"
#include "modalities/common/pooling.h"
#include "test_util.h"

namespace chorus::modality {
namespace {

using chorus::testing::AllClose;
using plugin::OptionSpec;
using plugin::OptionType;

plugin::OptionSchema schema() {
  return {OptionSpec{"width", OptionType::kInt, 8, "w", {}, 1, 64},
          OptionSpec{"rate", OptionType::kFloat, 0.5, "r", {}, 0, 1},
          OptionSpec{"mode", OptionType::kString, "a", "m", {"a", "b"}},
          OptionSpec{"path", OptionType::kPath, nullptr, "required"}};
}

TEST(ResolveOptions, FillsDefaultsAndKeepsForeignKeys) {
  auto r = resolve_options(schema(), {{"path", "/x"}, {"width", 4.0}, {"other", 1}}, "thing");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)["width"], 4);
  EXPECT_TRUE((*r)["width"].is_number_integer());
  EXPECT_EQ((*r)["rate"], 0.5);
  EXPECT_EQ((*r)["mode"], "a");
  EXPECT_EQ((*r)["other"], 1);
}

TEST(ResolveOptions, ErrorsNameTheOption) {
  auto expect = [](const plugin::Options& o, const std::string& needle) {
    auto r = resolve_options(schema(), o, "thing");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status();
    EXPECT_NE(r.status().message().find("thing"), std::string::npos) << r.status();
  };
  expect({{"width", 1}}, "'path' is required");
  expect({{"path", "/x"}, {"width", 65}}, "'width' = 65 is outside");
  expect({{"path", "/x"}, {"width", 2.5}}, "'width' must be an integer");
  expect({{"path", "/x"}, {"rate", "fast"}}, "'rate' must be a number");
  expect({{"path", "/x"}, {"mode", "c"}}, "is not one of: a, b");
  expect(nlohmann::json::array(), "must be an object");
}

TEST(Pooling, MeanClsEosAgainstHandValues) {
  // tokens [2, 3, 2]; row 0 has 2 real tokens, row 1 has 3.
  const Tensor tokens = Tensor::from_vector<float>({1, 2, 3, 4, 100, 100,  //
                                                    5, 6, 7, 8, 9, 10},
                                                   {2, 3, 2});
  const Tensor mask = Tensor::from_vector<uint8_t>({1, 1, 0, 1, 1, 1}, {2, 3});
  EXPECT_TRUE(AllClose(pool(tokens, mask, Pooling::kMean),
                       Tensor::from_vector<float>({2, 3, 7, 8}, {2, 2})));
  EXPECT_TRUE(AllClose(pool(tokens, mask, Pooling::kCls),
                       Tensor::from_vector<float>({1, 2, 5, 6}, {2, 2})));
  EXPECT_TRUE(AllClose(pool(tokens, mask, Pooling::kEos),
                       Tensor::from_vector<float>({3, 4, 9, 10}, {2, 2})));
  const Tensor none = Tensor::zeros({2, 3}, DType::kU8);
  EXPECT_TRUE(AllClose(pool(tokens, none, Pooling::kMean), Tensor::zeros({2, 2})));
  EXPECT_THROW(parse_pooling("max"), chorus::Error);
}

}  // namespace
}  // namespace chorus::modality
