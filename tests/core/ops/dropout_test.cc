// dropout: the mask is the documented pure function of (seed, offset, i), kept values are
// scaled by 1/(1-p), backward reuses the mask, the generator advances, bad input.
#include "core/ops/dropout.h"

#include <gtest/gtest.h>

#include "core/ops/elementwise.h"
#include "test_util.h"

namespace chorus {
namespace {

using testing::AllClose;
using testing::uniform;
using V = std::vector<Tensor>;

TEST(Dropout, MaskIsThePhiloxStream) {
  const double p = 0.3;
  Tensor x = uniform({7, 13}, 0.5, 1.5, DType::kF32);  // no zeros, so zeros mean "dropped"
  Generator gen(1234);
  gen.reserve(10);  // start at a non-zero offset
  const uint64_t offset = gen.offset();
  Tensor y = dropout(x, p, /*training=*/true, gen);
  EXPECT_EQ(gen.offset(), offset + (91 + 3) / 4);
  const auto xv = x.to_vector<float>(), yv = y.to_vector<float>();
  int kept = 0;
  for (size_t i = 0; i < xv.size(); ++i) {
    const bool keep = uniform_from_word(philox_word(1234, offset, i)) >= p;
    EXPECT_FLOAT_EQ(yv[i], keep ? xv[i] / (1 - p) : 0.0f) << i;
    kept += keep;
  }
  EXPECT_GT(kept, 40);  // about 64 of 91
  EXPECT_LT(kept, 85);
  // The next call draws fresh numbers.
  EXPECT_FALSE(AllClose(dropout(x, p, true, gen), y));
}

TEST(Dropout, VectorPathMatchesTheStreamAcrossCounterCarries) {
  // Large enough for the 32-element vector path, with a 64-bit seed and an offset whose low
  // 32 bits wrap inside the draw.
  for (DType dt : {DType::kF32, DType::kF64}) {
    Tensor x = uniform({37, 29}, 0.5, 1.5, dt, 4).set_requires_grad();
    Generator gen;
    gen.set_state(0x123456789abcdefull, (uint64_t{1} << 32) - 100);
    const uint64_t seed = gen.seed(), offset = gen.offset();
    Tensor out = dropout(x, 0.6, true, gen);
    out.backward(Tensor::ones(x.shape(), dt));  // the saved mask, through backward
    const auto y = out.to_vector<double>(), xv = x.to_vector<double>();
    const auto gx = x.grad().to_vector<double>();
    for (size_t i = 0; i < xv.size(); ++i) {
      const bool keep = uniform_from_word(philox_word(seed, offset, i)) >= 0.6;
      ASSERT_NEAR(y[i], keep ? xv[i] / 0.4 : 0.0, 1e-6) << i;
      ASSERT_NEAR(gx[i], keep ? 1 / 0.4 : 0.0, 1e-6) << i;
    }
  }
}

TEST(Dropout, KeepsAboutOneMinusPAndPreservesTheMean) {
  Generator gen(7);
  Tensor x = Tensor::ones({100000});
  const auto y = dropout(x, 0.25, true, gen).to_vector<double>();
  double sum = 0, kept = 0;
  for (double v : y) sum += v, kept += v != 0;
  EXPECT_NEAR(kept / 100000, 0.75, 0.01);
  EXPECT_NEAR(sum / 100000, 1.0, 0.015);
}

TEST(Dropout, IdentityWhenNotTrainingOrPZeroAndZerosForPOne) {
  Generator gen(3);
  Tensor x = uniform({4, 4});
  EXPECT_TRUE(dropout(x, 0.5, /*training=*/false, gen).is_same(x));
  EXPECT_TRUE(dropout(x, 0.0, true, gen).is_same(x));
  EXPECT_EQ(gen.offset(), 0u);  // nothing drawn
  EXPECT_TRUE(AllClose(dropout(x, 1.0, true, gen), Tensor::zeros({4, 4}, DType::kF64), 0, 0));
}

TEST(Dropout, BackwardReusesTheMask) {
  Tensor x = uniform({5, 9}, 0.5, 1.5).set_requires_grad();
  Generator gen(99);
  Tensor y = dropout(x, 0.4, true, gen);
  Tensor g = uniform({5, 9}, -1, 1, DType::kF64, 2);
  y.backward(g);
  const auto yv = y.to_vector<double>(), gv = g.to_vector<double>(),
             gx = x.grad().to_vector<double>();
  for (size_t i = 0; i < yv.size(); ++i) EXPECT_DOUBLE_EQ(gx[i], yv[i] != 0 ? gv[i] / 0.6 : 0.0);
  // Finite differences: a fresh generator per call gives the same mask every evaluation.
  EXPECT_GRADCHECK(
      [](const V& v) {
        Generator fresh(2024);
        return dropout(v[0], 0.35, true, fresh);
      },
      {uniform({3, 10})});
}

TEST(Dropout, Bf16AndNonContiguousInputs) {
  Generator a(5), b(5);
  Tensor x = uniform({6, 8}, 0.5, 1.5, DType::kF32);
  Tensor yb = dropout(x.to(DType::kBF16), 0.5, true, a);
  EXPECT_EQ(yb.dtype(), DType::kBF16);
  EXPECT_TRUE(AllClose(yb, dropout(x, 0.5, true, b), 2e-2, 1e-2));
  // Element i is the i-th element in row-major order of the (transposed) view.
  Generator c(5), d(5);
  Tensor xt = x.t();
  EXPECT_TRUE(AllClose(dropout(xt, 0.5, true, c), dropout(xt.contiguous(), 0.5, true, d), 0, 0));
}

TEST(Dropout, RejectsBadInput) {
  Generator gen;
  EXPECT_THROW(dropout(uniform({2}), -0.1, true, gen), Error);
  EXPECT_THROW(dropout(uniform({2}), 1.5, true, gen), Error);
  EXPECT_THROW(dropout(Tensor::arange(0, 4), 0.5, true, gen), Error);
}

}  // namespace
}  // namespace chorus
