// cross_entropy: forward against a naive loop, gradients against finite differences (with
// ignore_index and label smoothing), edge cases and bad input. PyTorch values:
// nn_reference_test.cc.
#include "core/ops/loss.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/ops/elementwise.h"
#include "test_util.h"

namespace chorus {
namespace {

using testing::AllClose;
using testing::uniform;
using V = std::vector<Tensor>;

// Per-row losses (0 for ignored rows) from the textbook definition: the cross-entropy of the
// smoothed target distribution q = (1-ε)·onehot(t) + ε/C against log_softmax(x).
std::vector<double> naive_losses(const Tensor& logits, const std::vector<int64_t>& t,
                                 int64_t ignore, double eps) {
  const int64_t c = logits.shape().back();
  const auto x = logits.to_vector<double>();
  std::vector<double> out;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == ignore) {
      out.push_back(0);
      continue;
    }
    double sum = 0;
    for (int64_t j = 0; j < c; ++j) sum += std::exp(x[i * c + j]);
    double loss = 0;
    for (int64_t j = 0; j < c; ++j) {
      const double q = (j == t[i] ? 1 - eps : 0) + eps / c;
      loss -= q * (x[i * c + j] - std::log(sum));
    }
    out.push_back(loss);
  }
  return out;
}

Tensor targets_of(const std::vector<int64_t>& t, const Shape& shape) {
  return Tensor::from_vector<int64_t>(t, shape);
}

TEST(CrossEntropy, MatchesNaiveLoop) {
  const std::vector<int64_t> t = {3, -100, 0, 12, 7, 7, -100, 1, 12};
  for (double eps : {0.0, 0.1, 1.0}) {
    // 13 classes: one full f32 vector and a tail.
    Tensor x = uniform({9, 13}, -4, 4, DType::kF64, 5);
    CrossEntropyOptions o{.label_smoothing = eps, .reduction = Reduction::kNone};
    const auto expect = naive_losses(x, t, -100, eps);
    EXPECT_TRUE(AllClose(cross_entropy(x, targets_of(t, {9}), o), testing::from(expect, {9}), 1e-12,
                         1e-12));
    EXPECT_TRUE(AllClose(cross_entropy(x.to(DType::kF32), targets_of(t, {9}), o),
                         testing::from(expect, {9}), 1e-5, 1e-5));
    double total = 0;
    for (double v : expect) total += v;
    o.reduction = Reduction::kSum;
    EXPECT_NEAR(cross_entropy(x, targets_of(t, {9}), o).item(), total, 1e-11);
    o.reduction = Reduction::kMean;  // 7 rows count
    EXPECT_NEAR(cross_entropy(x, targets_of(t, {9}), o).item(), total / 7, 1e-12);
  }
}

TEST(CrossEntropy, LeadingDimsAndI32Targets) {
  Tensor x = uniform({2, 3, 6}, -2, 2, DType::kF32, 8);  // [B, T, C], classes last
  const std::vector<int64_t> t = {5, 0, 2, 2, -100, 1};
  Tensor t32 = targets_of(t, {2, 3}).to(DType::kI32);
  CrossEntropyOptions none{.reduction = Reduction::kNone};
  Tensor l = cross_entropy(x, t32, none);
  EXPECT_EQ(l.shape(), (Shape{2, 3}));
  EXPECT_EQ(l.dtype(), DType::kF32);
  EXPECT_TRUE(AllClose(l, testing::from(naive_losses(x, t, -100, 0), {2, 3}), 1e-5, 1e-5));
  EXPECT_TRUE(
      AllClose(cross_entropy(x, t32), cross_entropy(x.reshape({6, 6}), t32.reshape({6})), 1e-7));
}

TEST(CrossEntropy, IgnoredRowsGetZeroGradientAndAllIgnoredIsNaN) {
  Tensor x = uniform({4, 5}, -2, 2).set_requires_grad();
  cross_entropy(x, targets_of({1, 2, 2, 4}, {4}), {.ignore_index = 2, .label_smoothing = 0.2})
      .backward();
  const auto g = x.grad().to_vector<double>();
  for (int64_t j = 5; j < 15; ++j) EXPECT_EQ(g[j], 0.0) << j;
  double row0 = 0;  // a kept row's gradient sums to zero (softmax minus a distribution)
  for (int64_t j = 0; j < 5; ++j) row0 += g[j];
  EXPECT_NEAR(row0, 0.0, 1e-14);
  EXPECT_NE(g[0], 0.0);
  EXPECT_TRUE(std::isnan(cross_entropy(x, targets_of({-100, -100, -100, -100}, {4})).item()));
  EXPECT_EQ(
      cross_entropy(x, targets_of({-100, -100, -100, -100}, {4}), {.reduction = Reduction::kSum})
          .item(),
      0.0);
}

TEST(CrossEntropy, Bf16LogitsGiveBf16Loss) {
  Tensor x = uniform({8, 40}, -3, 3, DType::kF32, 12).to(DType::kBF16);
  Tensor t = targets_of({0, 5, 39, 12, 7, 7, 1, 20}, {8});
  Tensor l = cross_entropy(x, t, {.label_smoothing = 0.1});
  ASSERT_EQ(l.dtype(), DType::kBF16);
  EXPECT_NEAR(l.item(), cross_entropy(x.to(DType::kF32), t, {.label_smoothing = 0.1}).item(), 2e-2);
  // Gradient, with an ignored row.
  Tensor t2 = targets_of({0, 5, -100, 12, 7, 7, 1, 20}, {8});
  Tensor xb = x.detach().set_requires_grad(), xf = x.to(DType::kF32).set_requires_grad();
  Tensor lb = cross_entropy(xb, t2, {.label_smoothing = 0.1, .reduction = Reduction::kNone});
  Tensor lf = cross_entropy(xf, t2, {.label_smoothing = 0.1, .reduction = Reduction::kNone});
  EXPECT_TRUE(AllClose(lb, lf, 2e-2, 1e-2));
  Tensor g = uniform({8}, 0.5, 1.5, DType::kF32, 13);
  lb.backward(g.to(DType::kBF16));
  lf.backward(g.to(DType::kBF16).to(DType::kF32));
  ASSERT_EQ(xb.grad().dtype(), DType::kBF16);
  EXPECT_TRUE(AllClose(xb.grad(), xf.grad(), 2e-3, 1e-2));
}

TEST(CrossEntropy, GradientsMatchFiniteDifferences) {
  Tensor x = uniform({6, 7}, -3, 3);
  Tensor t = targets_of({0, 6, -100, 3, 3, 2}, {6});
  for (Reduction r : {Reduction::kMean, Reduction::kSum, Reduction::kNone}) {
    for (double eps : {0.0, 0.15}) {
      EXPECT_GRADCHECK(
          [t, r, eps](const V& v) {
            return cross_entropy(v[0], t, {.label_smoothing = eps, .reduction = r});
          },
          {x});
    }
  }
  // ignore_index that is also a valid class.
  Tensor t3 = targets_of({0, 6, 1, 3, 3, 2}, {6});
  EXPECT_GRADCHECK(
      [t3](const V& v) {
        return cross_entropy(v[0], t3, {.ignore_index = 3, .label_smoothing = 0.3});
      },
      {x});
  // Composed with another op, so the upstream gradient is not 1.
  EXPECT_GRADCHECK([t](const V& v) { return mul(cross_entropy(mul(v[0], v[0]), t), 3.0); }, {x});
}

TEST(CrossEntropy, RejectsBadInput) {
  Tensor x = uniform({3, 4});
  EXPECT_THROW(cross_entropy(x, targets_of({0, 4, 1}, {3})), Error);   // class 4 of 4
  EXPECT_THROW(cross_entropy(x, targets_of({0, -1, 1}, {3})), Error);  // negative, not ignored
  EXPECT_THROW(cross_entropy(x, targets_of({0, 1}, {2})), Error);      // shape
  EXPECT_THROW(cross_entropy(x, Tensor::zeros({3})), Error);           // float targets
  EXPECT_THROW(cross_entropy(Tensor::arange(0, 12).reshape({3, 4}), targets_of({0, 1, 2}, {3})),
               Error);
  EXPECT_THROW(cross_entropy(x, targets_of({0, 1, 2}, {3}), {.label_smoothing = 1.5}), Error);
}

}  // namespace
}  // namespace chorus
