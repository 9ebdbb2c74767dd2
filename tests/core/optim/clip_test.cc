// clip_grad_norm against a manual computation (mixed gradient dtypes, all norm orders,
// non-finite gradients), and gradient accumulation.
#include "core/optim/clip.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "core/optim/grad_accumulator.h"
#include "core/optim/sgd.h"
#include "optim_test_util.h"
#include "test_util.h"

namespace chorus::optim {
namespace {

using testing::SameBits;
constexpr double kInf = std::numeric_limits<double>::infinity();

Tensor param_with_grad(const Tensor& grad) {
  Tensor p = Tensor::zeros(grad.shape(), grad.dtype());
  p.set_requires_grad();
  p.set_grad(grad);
  return p;
}

// f32, bf16 and f64 gradients in one model, plus a parameter without a gradient.
std::vector<Tensor> mixed_params() {
  return {param_with_grad(testing::uniform({3, 4}, -2, 2, DType::kF32, 1)),
          param_with_grad(testing::uniform({5}, -1, 1, DType::kBF16, 2)),
          param_with_grad(testing::uniform({2, 3}, -3, 3, DType::kF64, 3)),
          Tensor::zeros({7}).set_requires_grad()};
}

double manual_norm(const std::vector<Tensor>& params, double p) {
  double acc = 0;
  for (const Tensor& t : params) {
    if (!t.grad().defined()) continue;
    for (double v : t.grad().to_vector<double>()) {
      acc = std::isinf(p) ? std::max(acc, std::fabs(v)) : acc + std::pow(std::fabs(v), p);
    }
  }
  return std::isinf(p) ? acc : std::pow(acc, 1.0 / p);
}

TEST(ClipGradNorm, MatchesManualComputationForMixedDtypes) {
  for (double p : {2.0, 1.0, 3.0, kInf}) {
    SCOPED_TRACE(p);
    auto params = mixed_params();
    const double want = manual_norm(params, p);
    std::vector<Tensor> before;
    for (int i = 0; i < 3; ++i) before.push_back(params[i].grad().clone());
    EXPECT_NEAR(grad_norm(params, p), want, 1e-12 * want);
    const double max_norm = want / 4;
    const double total = clip_grad_norm(params, max_norm, p);
    EXPECT_NEAR(total, want, 1e-12 * want);
    const double coef = max_norm / (want + 1e-6);
    for (int i = 0; i < 3; ++i) {
      // Scaled in f32 (f64 for f64) and rounded back to the gradient's dtype.
      const DType d = before[i].dtype();
      const Tensor expected = d == DType::kF64
                                  ? mul(before[i], Tensor::scalar(coef, DType::kF64))
                                  : mul(before[i].to(DType::kF32), Tensor::scalar(coef)).to(d);
      EXPECT_TRUE(SameBits(params[i].grad(), expected)) << i;
    }
    EXPECT_FALSE(params[3].grad().defined());
    // The clipped gradients have (about) max_norm.
    EXPECT_NEAR(manual_norm(params, p), max_norm, 1e-2 * max_norm);
  }
}

TEST(ClipGradNorm, BelowMaxNormLeavesGradientsAlone) {
  auto params = mixed_params();
  std::vector<Tensor> before;
  for (int i = 0; i < 3; ++i) before.push_back(params[i].grad().clone());
  const double total = clip_grad_norm(params, 1e6);
  EXPECT_NEAR(total, manual_norm(params, 2.0), 1e-9);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(SameBits(params[i].grad(), before[i]));
}

TEST(ClipGradNorm, LargeGradientIsThreadedAndExact) {
  // 300001 elements: many blocks and threads; the f64 accumulation matches a serial sum.
  Tensor g = testing::uniform({300001}, -1, 1, DType::kF32, 9);
  auto params = std::vector<Tensor>{param_with_grad(g)};
  double acc = 0;
  for (double v : g.to_vector<double>()) acc += v * v;
  EXPECT_NEAR(grad_norm(params), std::sqrt(acc), 1e-10 * std::sqrt(acc));
}

TEST(ClipGradNorm, NonFiniteTotalIsReportedAndGradientsKept) {
  for (double bad : {kInf, std::nan("")}) {
    auto params = mixed_params();
    Tensor g = params[0].grad();
    std::vector<float> v = g.to_vector<float>();
    v[5] = static_cast<float>(bad);
    params[0].set_grad(Tensor::from_vector(v, g.shape()));
    const Tensor before = params[1].grad().clone();
    const double total = clip_grad_norm(params, 1.0);
    EXPECT_FALSE(std::isfinite(total));
    if (std::isnan(bad)) EXPECT_TRUE(std::isnan(total));
    EXPECT_TRUE(SameBits(params[1].grad(), before));
    EXPECT_THROW(clip_grad_norm(params, 1.0, 2.0, /*error_if_nonfinite=*/true), Error);
    EXPECT_FALSE(std::isfinite(clip_grad_norm(params, 1.0, kInf)));
  }
}

TEST(ClipGradNorm, EdgeCases) {
  EXPECT_EQ(clip_grad_norm(std::vector<Tensor>{}, 1.0), 0.0);
  EXPECT_EQ(clip_grad_norm(std::vector<Tensor>{Tensor::zeros({3})}, 1.0), 0.0);  // no grads
  auto empty = std::vector<Tensor>{param_with_grad(Tensor::zeros({0, 4}))};
  EXPECT_EQ(clip_grad_norm(empty, 1.0), 0.0);
  auto params = mixed_params();
  EXPECT_THROW(clip_grad_norm(params, 1.0, 0.0), Error);
  EXPECT_THROW(clip_grad_norm(params, 1.0, -2.0), Error);
  EXPECT_THROW(clip_grad_norm(params, -1.0), Error);
  // max_norm 0 zeroes the gradients (coef 0).
  clip_grad_norm(params, 0.0);
  EXPECT_EQ(manual_norm(params, 2.0), 0.0);
}

TEST(ClipGradNorm, OverOptimizerAndNamedParameters) {
  testing::TinyBlock m;
  testing::set_grads(m.named_parameters(), 0);
  SGD opt(split_by_decay(m).decay, SGDOptions{.lr = 0.1});  // proj_weight, experts_w1
  std::vector<Tensor> two{m.proj_weight, m.experts_w};
  const double want = grad_norm(two);
  EXPECT_DOUBLE_EQ(clip_grad_norm(opt, 0.5), want);
  EXPECT_NEAR(grad_norm(two), 0.5, 1e-5);
  testing::set_grads(m.named_parameters(), 0);
  EXPECT_GT(clip_grad_norm(m.named_parameters(), 0.5), want);  // all six
}

// N micro-batches with the loss scaled by 1/N accumulate the gradient of the mean loss over
// the full batch.
TEST(GradAccumulator, MicroBatchesSumToTheFullBatchGradient) {
  const Tensor w0 = testing::uniform({4}, -1, 1, DType::kF64, 4);
  const Tensor x = testing::uniform({6, 4}, -1, 1, DType::kF64, 5);
  auto loss_of = [](const Tensor& w, const Tensor& xs) {
    return mean(square(sum(mul(xs, w), {1})));  // mean over rows of (x·w)^2
  };
  Tensor full = w0.clone();
  full.set_requires_grad();
  loss_of(full, x).backward();

  Tensor w = w0.clone();
  w.set_requires_grad();
  GradAccumulator acc(3);
  EXPECT_EQ(acc.loss_scale(), 1.0 / 3);
  int steps = 0;
  for (int k = 0; k < 3; ++k) {
    mul(loss_of(w, x.slice(0, 2 * k, 2 * k + 2)), acc.loss_scale()).backward();
    EXPECT_EQ(acc.pending(), k);
    if (acc.micro_step()) ++steps;
  }
  EXPECT_EQ(steps, 1);
  EXPECT_EQ(acc.pending(), 0);
  EXPECT_TRUE(testing::AllClose(w.grad(), full.grad(), 1e-12, 1e-12));
  EXPECT_THROW(GradAccumulator(0), Error);
  GradAccumulator one(1);
  EXPECT_TRUE(one.micro_step());
  acc.micro_step();
  acc.reset();
  EXPECT_EQ(acc.pending(), 0);
}

}  // namespace
}  // namespace chorus::optim
