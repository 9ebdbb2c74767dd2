// Parameter initialisation: determinism per seed, the documented stream layout, moments and
// bounds of each distribution, fans.
#include "core/nn/init.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "nn_test_util.h"

namespace chorus::nn {
namespace {

using testing::BitwiseEqual;

struct Moments {
  double mean, std, min, max;
};
Moments moments(const Tensor& t) {
  const auto v = t.to_vector<double>();
  double s = 0, s2 = 0, lo = INFINITY, hi = -INFINITY;
  for (double x : v) {
    s += x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  const double mean = s / static_cast<double>(v.size());
  for (double x : v) s2 += (x - mean) * (x - mean);
  return {mean, std::sqrt(s2 / static_cast<double>(v.size())), lo, hi};
}

TEST(InitTest, SameSeedSameValuesAndTheGeneratorAdvances) {
  Generator a(42), b(42), c(43);
  const Tensor x = init::normal({64, 33}, 0, 1, a);
  const Tensor y = init::normal({64, 33}, 0, 1, b);
  EXPECT_TRUE(BitwiseEqual(x, y));
  EXPECT_FALSE(BitwiseEqual(x, init::normal({64, 33}, 0, 1, c)));
  // Consecutive draws do not overlap: the second differs from the first.
  EXPECT_FALSE(BitwiseEqual(x, init::normal({64, 33}, 0, 1, a)));
  EXPECT_EQ(b.offset(), (64u * 33u + 3) / 4);  // 2112 words, rounded to blocks of 4
  Generator d(42);
  init::uniform({10}, 0, 1, d);
  EXPECT_EQ(d.offset(), 3u);
}

TEST(InitTest, UniformFollowsTheDocumentedStream) {
  Generator gen(7);
  gen.reserve(8);  // start at a non-zero offset
  const uint64_t offset = gen.offset();
  const Tensor t = init::uniform({5, 7}, -2.0, 3.0, gen, DType::kF64);
  const auto v = t.to_vector<double>();
  for (uint64_t i = 0; i < v.size(); ++i) {
    const double u = static_cast<double>(philox_word(7, offset, i)) * 0x1.0p-32;
    EXPECT_DOUBLE_EQ(v[i], -2.0 + 5.0 * u) << i;
  }
}

TEST(InitTest, NormalIsBoxMullerOnPairsOfWords) {
  Generator gen(11);
  const Tensor t = init::normal({5}, 1.0, 2.0, gen, DType::kF64);
  const auto v = t.to_vector<double>();
  for (uint64_t i = 0; i < 5; ++i) {
    const uint64_t pair = i / 2;
    const double u1 = (static_cast<double>(philox_word(11, 0, 2 * pair)) + 0.5) * 0x1.0p-32;
    const double u2 = static_cast<double>(philox_word(11, 0, 2 * pair + 1)) * 0x1.0p-32;
    const double r = std::sqrt(-2 * std::log(u1)), th = 2 * std::numbers::pi * u2;
    EXPECT_NEAR(v[i], 1.0 + 2.0 * (i % 2 == 0 ? r * std::cos(th) : r * std::sin(th)), 1e-12);
  }
}

TEST(InitTest, Moments) {
  Generator gen(3);
  const Moments u = moments(init::uniform({200000}, -1, 3, gen));
  EXPECT_NEAR(u.mean, 1.0, 0.01);
  EXPECT_NEAR(u.std, 4.0 / std::sqrt(12.0), 0.01);
  EXPECT_GE(u.min, -1.0);
  EXPECT_LT(u.max, 3.0);

  const Moments n = moments(init::normal({200000}, 0.5, 2.0, gen));
  EXPECT_NEAR(n.mean, 0.5, 0.02);
  EXPECT_NEAR(n.std, 2.0, 0.02);
  EXPECT_LT(n.min, 0.5 - 4 * 2.0);  // real tails, not a clipped distribution

  // Normal(0, 0.02) cut at ±2σ: the std of a standard normal truncated at ±2 is 0.8796.
  const Moments t = moments(init::trunc_normal({200000}, 0.0, 0.02, -0.04, 0.04, gen));
  EXPECT_NEAR(t.mean, 0.0, 2e-4);
  EXPECT_NEAR(t.std, 0.02 * 0.87962566, 2e-4);
  EXPECT_GE(t.min, -0.04);
  EXPECT_LE(t.max, 0.04);
  EXPECT_LT(t.min, -0.0399);  // reaches the bounds
  EXPECT_GT(t.max, 0.0399);
}

TEST(InitTest, TruncNormalFarInTheTailStaysInBoundsAndIsDeterministic) {
  // [3σ, 3.5σ] holds 0.11% of the mass: rejection alone cannot place most elements, so the
  // inverse-CDF fallback does.
  Generator a(5), b(5);
  const Tensor x = init::trunc_normal({2000}, 0.0, 1.0, 3.0, 3.5, a, DType::kF64);
  EXPECT_TRUE(BitwiseEqual(x, init::trunc_normal({2000}, 0.0, 1.0, 3.0, 3.5, b, DType::kF64)));
  const Moments m = moments(x);
  EXPECT_GE(m.min, 3.0);
  EXPECT_LE(m.max, 3.5);
  // Mass concentrates near the lower bound: the conditional mean is about 3.2.
  EXPECT_NEAR(m.mean, 3.2, 0.03);
}

TEST(InitTest, FansAndScaledInits) {
  EXPECT_EQ(init::fans({16, 8}), std::make_pair(int64_t{8}, int64_t{16}));
  EXPECT_EQ(init::fans({16, 8, 3, 3}), std::make_pair(int64_t{72}, int64_t{144}));
  EXPECT_EQ(init::fans({5}), std::make_pair(int64_t{5}, int64_t{5}));
  EXPECT_THROW(init::fans({}), Error);

  Generator gen(1);
  const Moments ku = moments(init::kaiming_uniform({256, 400}, gen));
  const double bound = std::sqrt(2.0) * std::sqrt(3.0 / 400);
  EXPECT_GE(ku.min, -bound);
  EXPECT_LE(ku.max, bound);
  EXPECT_GT(ku.max, 0.99 * bound);
  EXPECT_NEAR(ku.std, std::sqrt(2.0 / 400), 0.002);
  EXPECT_NEAR(moments(init::kaiming_normal({256, 400}, gen)).std, std::sqrt(2.0 / 400), 0.002);
  const Moments xu = moments(init::xavier_uniform({300, 100}, gen, 2.0));
  EXPECT_LE(xu.max, 2.0 * std::sqrt(6.0 / 400));
  EXPECT_NEAR(xu.std, 2.0 * std::sqrt(2.0 / 400), 0.003);
  EXPECT_NEAR(moments(init::xavier_normal({300, 100}, gen)).std, std::sqrt(2.0 / 400), 0.002);
}

TEST(InitTest, DtypesAndErrors) {
  Generator gen(1);
  const Tensor b = init::normal({4, 4}, 0, 1, gen, DType::kBF16);
  EXPECT_EQ(b.dtype(), DType::kBF16);
  EXPECT_EQ(init::uniform({0, 3}, 0, 1, gen).numel(), 0);
  EXPECT_THROW(init::normal({2}, 0, 1, gen, DType::kI64), Error);
  EXPECT_THROW(init::normal({2}, 0, -1, gen), Error);
  EXPECT_THROW(init::uniform({2}, 1, 0, gen), Error);
  EXPECT_THROW(init::trunc_normal({2}, 0, 1, 1, 1, gen), Error);
}

}  // namespace
}  // namespace chorus::nn
