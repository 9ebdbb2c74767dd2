// The vectorised float exp behind softmax, cross-entropy and logsumexp (core/ops/cpu/simd.h):
// accuracy over the whole normal range and the special values the kernels rely on.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/ops/cpu/simd.h"

namespace chorus::cpu {
namespace {

using simd::Vec;

TEST(SimdExp, WithinTwoUlpOverTheNormalRange) {
  double worst = 0;
  for (int i = 0; i <= 400000; ++i) {
    Vec<float> x;
    for (int k = 0; k < 8; ++k) x[k] = -87.0f + (87.0f + 88.3f) * (i * 8 + k) / (400001.0f * 8);
    const Vec<float> y = simd::exp(x);
    for (int k = 0; k < 8; ++k) {
      const double want = std::exp(static_cast<double>(x[k]));
      const double ulp =
          std::nextafter(static_cast<float>(want), INFINITY) - static_cast<float>(want);
      worst = std::max(worst, std::fabs(y[k] - want) / ulp);
    }
  }
  EXPECT_LE(worst, 2.0);
}

TEST(SimdExp, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  Vec<float> x = {0.0f, -inf, inf, std::nanf(""), -100.0f, 100.0f, -87.5f, 1.0f};
  const Vec<float> y = simd::exp(x);
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_EQ(y[2], inf);
  EXPECT_TRUE(std::isnan(y[3]));
  EXPECT_EQ(y[4], 0.0f);
  EXPECT_EQ(y[5], inf);
  EXPECT_LE(y[6], 1.2e-38f);  // below the normal range: flushed or tiny
  EXPECT_NEAR(y[7], std::exp(1.0), 1e-6);
}

}  // namespace
}  // namespace chorus::cpu
