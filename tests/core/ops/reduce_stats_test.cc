// var, logsumexp and norm: forward against naive loops, gradients against finite differences,
// edge cases.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "reduce_naive.h"
#include "test_util.h"

namespace chorus {
namespace {

using testing::AllClose;
using testing::naive_reduce;
using testing::uniform;
using V = std::vector<Tensor>;

const std::vector<std::vector<int64_t>> kDimSets = {{}, {0}, {1}, {2}, {0, 2}, {-1, 0}};

TEST(Var, MatchesNaiveLoop) {
  Tensor x = add(uniform({4, 6, 11}, -2, 2, DType::kF64, 5), 3.0);
  for (const auto& dims : kDimSets) {
    for (int64_t correction : {0, 1, 2}) {
      auto naive = [correction](const std::vector<double>& g) {
        double mean = 0, ss = 0;
        for (double v : g) mean += v / g.size();
        for (double v : g) ss += (v - mean) * (v - mean);
        return ss / (static_cast<double>(g.size()) - correction);
      };
      EXPECT_TRUE(AllClose(var(x, dims, correction), naive_reduce(x, dims, naive), 1e-12, 1e-12));
      EXPECT_TRUE(AllClose(var(x.to(DType::kF32), dims, correction), naive_reduce(x, dims, naive),
                           1e-5, 1e-5));
    }
  }
  EXPECT_EQ(var(x, {1}, 1, true).shape(), (Shape{4, 1, 11}));
  // Large offset next to a small spread: the two-pass kernel keeps the digits.
  Tensor off = add(uniform({1000}, -1, 1, DType::kF32, 6), 10000.0);
  EXPECT_NEAR(var(off).item(), var(off.to(DType::kF64)).item(), 1e-4);
  // One element with the unbiased estimator: 0/0, NaN as in PyTorch.
  EXPECT_TRUE(std::isnan(var(Tensor::ones({1})).item()));
  EXPECT_EQ(var(Tensor::ones({1}), {}, 0).item(), 0.0);
}

TEST(LogSumExp, MatchesNaiveLoopAndIsStable) {
  Tensor x = uniform({3, 5, 9}, -4, 4, DType::kF64, 7);
  auto naive = [](const std::vector<double>& g) {
    double s = 0;
    for (double v : g) s += std::exp(v);
    return std::log(s);
  };
  for (const auto& dims : kDimSets) {
    if (dims.empty()) continue;
    EXPECT_TRUE(AllClose(logsumexp(x, dims), naive_reduce(x, dims, naive), 1e-12, 1e-12));
    EXPECT_TRUE(
        AllClose(logsumexp(x.to(DType::kF32), dims), naive_reduce(x, dims, naive), 1e-5, 1e-5));
  }
  // exp(1000) overflows; the stable form does not.
  Tensor big = testing::from({1000, 1000, -1000}, {3}, DType::kF32);
  EXPECT_NEAR(logsumexp(big, {0}).item(), 1000 + std::log(2.0), 1e-3);
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(logsumexp(testing::from({-inf, -inf}, {2}), {0}).item(), -inf);
  EXPECT_EQ(logsumexp(testing::from({1, inf}, {2}), {0}).item(), inf);
  EXPECT_EQ(logsumexp(Tensor::zeros({2, 0}), {1}).to_vector<double>()[0], -inf);
}

TEST(Norm, MatchesNaiveLoopForSeveralP) {
  Tensor x = uniform({4, 3, 13}, -3, 3, DType::kF64, 9);
  const double inf = std::numeric_limits<double>::infinity();
  for (double p : {2.0, 1.0, 3.0, 0.5, inf, -inf, 0.0}) {
    auto naive = [p, inf](const std::vector<double>& g) {
      if (std::isinf(p)) {
        double m = p > 0 ? 0 : inf;
        for (double v : g) m = p > 0 ? std::max(m, std::fabs(v)) : std::min(m, std::fabs(v));
        return m;
      }
      double s = 0;
      for (double v : g) s += p == 0 ? (v != 0) : std::pow(std::fabs(v), p);
      return p == 0 ? s : std::pow(s, 1 / p);
    };
    for (const auto& dims : kDimSets) {
      EXPECT_TRUE(AllClose(norm(x, p, dims), naive_reduce(x, dims, naive), 1e-12, 1e-12))
          << "p " << p;
      EXPECT_TRUE(
          AllClose(norm(x.to(DType::kF32), p, dims), naive_reduce(x, dims, naive), 1e-5, 1e-5))
          << "p " << p;
    }
  }
  EXPECT_EQ(norm(x, 2.0, {0, 1}, true).shape(), (Shape{1, 1, 13}));
  EXPECT_EQ(norm(Tensor::zeros({0})).item(), 0.0);
}

TEST(ReduceStats, GradientsMatchFiniteDifferences) {
  Tensor x = uniform({3, 4, 5}, -2, 2);
  for (const auto& dims : kDimSets) {
    EXPECT_GRADCHECK([dims](const V& v) { return var(v[0], dims); }, {x});
    EXPECT_GRADCHECK([dims](const V& v) { return var(v[0], dims, 0, true); }, {x});
    if (!dims.empty()) {
      EXPECT_GRADCHECK([dims](const V& v) { return logsumexp(v[0], dims); }, {x});
    }
    for (double p : {2.0, 1.0, 3.0, 1.5, std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity()}) {
      EXPECT_GRADCHECK([dims, p](const V& v) { return norm(v[0], p, dims); }, {x});
    }
  }
}

TEST(Norm, GradientAtZeroAndTies) {
  Tensor z = Tensor::zeros({2, 3}, DType::kF64).set_requires_grad();
  norm(z, 2.0, {1}).backward(Tensor::ones({2}, DType::kF64));
  EXPECT_TRUE(AllClose(z.grad(), Tensor::zeros({2, 3}, DType::kF64), 0, 0));
  // The inf-norm shares its gradient among ties, with the sign of each element.
  Tensor t = testing::from({-3, 3, 1}, {3}).set_requires_grad();
  norm(t, std::numeric_limits<double>::infinity()).backward();
  EXPECT_TRUE(AllClose(t.grad(), testing::from({-0.5, 0.5, 0}, {3}), 0, 0));
}

TEST(ReduceStats, RejectsBadInput) {
  Tensor i = Tensor::arange(0, 6);
  EXPECT_THROW(var(i), Error);
  EXPECT_THROW(logsumexp(i, {0}), Error);
  EXPECT_THROW(norm(i), Error);
  EXPECT_THROW(norm(uniform({3}), std::nan("")), Error);
  EXPECT_THROW(var(uniform({2, 3}), {0, 0}), Error);
  EXPECT_THROW(logsumexp(uniform({2, 3}), {2}), Error);
}

}  // namespace
}  // namespace chorus
