// Task stages' fused classifier (TaskHead) and loss (task_loss): what the fixed weights do to
// the fused logits, what the gate logs, that the loss learns, and the per-modality terms
// against a hand computation. Synthetic encoder outputs stand in for the plugins.
#include "core/recipe/task_head.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/align/info_nce.h"
#include "core/ops/elementwise.h"
#include "core/optim/adamw.h"
#include "core/recipe/objective.h"
#include "core/recipe/task_objective.h"
#include "test_util.h"

namespace chorus::recipe {
namespace {

constexpr int64_t kD = 8, kClasses = 3;

TaskConfig two_modalities(double wa, double wb, WeightMode mode = WeightMode::kFixed,
                          TaskFusion fusion = TaskFusion::kTokens) {
  TaskConfig t;
  t.name = "classify";
  t.modalities = {"a", "b"};
  t.weights = {{"a", wa}, {"b", wb}};
  t.mode = mode;
  t.fusion = fusion;
  return t;
}

CoreConfig small_core() {
  CoreConfig c;
  c.width = 16;  // != kD: the projection into the core is exercised too
  c.layers = 1;
  c.heads = 2;
  c.experts = 2;
  c.top_k = 1;
  return c;
}

std::vector<align::ModalityInput> inputs(uint64_t seed_a, uint64_t seed_b, int64_t batch = 2) {
  const Tensor ta = testing::uniform({batch, 3, kD}, -1, 1, DType::kF32, seed_a);
  const Tensor tb = testing::uniform({batch, 4, kD}, -1, 1, DType::kF32, seed_b);
  // b's last token of sample 0 is padding.
  std::vector<float> mb(static_cast<size_t>(batch * 4), 1.0f);
  mb[3] = 0;
  return {{ta, Tensor::ones({batch, 3}), Tensor()},
          {tb, Tensor::from_vector<float>(mb, {batch, 4}), Tensor()}};
}

double max_abs_diff(const Tensor& x, const Tensor& y) {
  const auto a = x.to_vector<double>(), b = y.to_vector<double>();
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

// (b) With weights {a: 1, b: 0} the fused logits ignore b's input; with {0.5, 0.5} they do not.
TEST(TaskHead, ZeroWeightMakesLogitsIndependentOfThatModality) {
  for (TaskFusion fusion : {TaskFusion::kTokens, TaskFusion::kPooled}) {
    Generator gen(3);
    TaskHead zero_b(two_modalities(1.0, 0.0, WeightMode::kFixed, fusion), small_core(), kD,
                    kClasses, 5, gen);
    Generator gen2(3);
    TaskHead half(two_modalities(0.5, 0.5, WeightMode::kFixed, fusion), small_core(), kD, kClasses,
                  5, gen2);
    Generator g(0);
    const auto x = inputs(1, 2), perturbed = inputs(1, 99);  // only b differs
    const Tensor l0 = zero_b.forward(x, g, false).logits;
    const Tensor l1 = zero_b.forward(perturbed, g, false).logits;
    ASSERT_EQ(l0.shape(), (Shape{2, kClasses}));
    EXPECT_EQ(max_abs_diff(l0, l1), 0.0) << "fusion " << static_cast<int>(fusion);
    EXPECT_GT(
        max_abs_diff(half.forward(x, g, false).logits, half.forward(perturbed, g, false).logits),
        1e-4)
        << "fusion " << static_cast<int>(fusion);
  }
}

// (c) Fixed mode logs the recipe's weights; the gate logs per-sample softmax values (rows sum
// to 1) equal to softmax(W_z [pooled_a; pooled_b] + b_z) computed here by hand.
TEST(TaskHead, LoggedWeightsAreFixedWeightsOrGateSoftmax) {
  Generator gen(4);
  TaskHead fixed(two_modalities(0.7, 0.3), small_core(), kD, kClasses, 5, gen);
  Generator g(0);
  const auto x = inputs(1, 2, 4);
  const TaskForward f = fixed.forward(x, g, false);
  ASSERT_EQ(f.weighted.mean_weights.size(), 2u);
  EXPECT_NEAR(f.weighted.mean_weights[0], 0.7, 1e-6);
  EXPECT_NEAR(f.weighted.mean_weights[1], 0.3, 1e-6);

  TaskHead gated(two_modalities(0.5, 0.5, WeightMode::kLearned), small_core(), kD, kClasses, 5,
                 gen);
  const TaskForward fg = gated.forward(x, g, false);
  const auto w = fg.weighted.weights.to_vector<double>();
  ASSERT_EQ(w.size(), 8u);
  // Reference: masked means of the tokens, then the gate's linear map and a softmax.
  const auto wz = gated.weighting->gate->weight.to_vector<double>();  // [2, 2·D]
  const auto bz = gated.weighting->gate->bias.to_vector<double>();    // [2]
  const auto ta = x[0].tokens.to_vector<double>(), tb = x[1].tokens.to_vector<double>();
  const auto mb = x[1].mask.to_vector<double>();
  double mean0 = 0, mean1 = 0;
  for (int64_t s = 0; s < 4; ++s) {
    std::vector<double> cat(2 * kD, 0.0);
    for (int64_t d = 0; d < kD; ++d) {
      for (int64_t t = 0; t < 3; ++t) cat[d] += ta[(s * 3 + t) * kD + d] / 3.0;
      double n = 0;
      for (int64_t t = 0; t < 4; ++t) {
        cat[kD + d] += mb[s * 4 + t] * tb[(s * 4 + t) * kD + d];
        n += mb[s * 4 + t];
      }
      cat[kD + d] /= n;
    }
    double z[2];
    for (int k = 0; k < 2; ++k) {
      z[k] = bz[k];
      for (int64_t i = 0; i < 2 * kD; ++i) z[k] += wz[k * 2 * kD + i] * cat[i];
    }
    const double p0 = 1.0 / (1.0 + std::exp(z[1] - z[0]));
    EXPECT_NEAR(w[s * 2], p0, 1e-5) << "sample " << s;
    EXPECT_NEAR(w[s * 2] + w[s * 2 + 1], 1.0, 1e-6);
    mean0 += w[s * 2] / 4, mean1 += w[s * 2 + 1] / 4;
  }
  EXPECT_NEAR(fg.weighted.mean_weights[0], mean0, 1e-6);
  EXPECT_NEAR(fg.weighted.mean_weights[1], mean1, 1e-6);
  // Per sample, not one value for the batch.
  EXPECT_GT(std::abs(w[0] - w[2]) + std::abs(w[2] - w[4]) + std::abs(w[4] - w[6]), 1e-6);
}

// (d) On a separable problem (the class shifts modality a's tokens; b is noise) the task loss
// falls: the last of 40 AdamW steps is far below the first.
TEST(TaskHead, TaskLossDecreasesOnSeparableData) {
  for (WeightMode mode : {WeightMode::kFixed, WeightMode::kLearned}) {
    Generator gen(8);
    TaskHead head(two_modalities(0.7, 0.3, mode), small_core(), kD, kClasses, 5, gen);
    const int64_t n = 24;
    std::vector<int64_t> labels(n);
    std::vector<float> a(static_cast<size_t>(n * 3 * kD));
    const auto noise = testing::uniform({n, 3, kD}, -0.3, 0.3, DType::kF32, 21).to_vector<float>();
    for (int64_t i = 0; i < n; ++i) {
      labels[i] = i % kClasses;
      for (int64_t t = 0; t < 3; ++t)
        for (int64_t d = 0; d < kD; ++d) {
          const size_t k = static_cast<size_t>((i * 3 + t) * kD + d);
          a[k] = noise[k] + (d % kClasses == labels[i] ? 1.0f : 0.0f);
        }
    }
    const std::vector<align::ModalityInput> x = {
        {Tensor::from_vector<float>(a, {n, 3, kD}), Tensor(), Tensor()},
        {testing::uniform({n, 4, kD}, -1, 1, DType::kF32, 22), Tensor(), Tensor()}};
    const Tensor y = Tensor::from_vector<int64_t>(labels, {n});
    optim::AdamWOptions o;
    o.lr = 1e-2;
    o.weight_decay = 0;
    optim::AdamW opt(head.named_parameters(), o);
    Generator g(0);
    double first = 0, last = 0;
    for (int step = 0; step < 40; ++step) {
      const TaskForward f = head.forward(x, g, true);
      const TaskLossTerms t = task_loss(f, y, TaskLossConfig{1.0, 0.5});
      (step == 0 ? first : last) = t.total.item();
      t.total.backward();
      opt.step();
      opt.zero_grad();
    }
    EXPECT_LT(last, 0.3 * first) << "mode " << static_cast<int>(mode) << ": " << first << " -> "
                                 << last;
  }
}

// (e) The per-modality term is Σ_m w_m CE_m averaged over samples, with per-sample weights.
TEST(TaskLoss, PerModalityTermsMatchHandComputedWeightedSum) {
  TaskForward f;
  f.logits = Tensor::from_vector<float>({0.0f, 0.0f, 0.0f, 0.0f}, {2, 2});
  f.unimodal = {Tensor::from_vector<float>({2.0f, 0.0f, 0.5f, 1.5f}, {2, 2}),
                Tensor::from_vector<float>({-1.0f, 1.0f, 0.0f, 3.0f}, {2, 2})};
  f.weighted.weights = Tensor::from_vector<float>({0.7f, 0.3f, 0.2f, 0.8f}, {2, 2});
  f.weighted.mean_weights = {0.45, 0.55};
  const Tensor labels = Tensor::from_vector<int64_t>({0, 1}, {2});
  auto ce = [](double x0, double x1, int y) {
    return std::log(std::exp(x0) + std::exp(x1)) - (y == 0 ? x0 : x1);
  };
  // sample 0 (label 0): a 0.7·ce(2, 0), b 0.3·ce(−1, 1); sample 1 (label 1): 0.2·ce(.5, 1.5),
  // 0.8·ce(0, 3).
  const double expect =
      (0.7 * ce(2, 0, 0) + 0.3 * ce(-1, 1, 0) + 0.2 * ce(0.5, 1.5, 1) + 0.8 * ce(0, 3, 1)) / 2;
  const TaskLossTerms t = task_loss(f, labels, TaskLossConfig{1.0, 0.5});
  EXPECT_NEAR(t.modalities.item(), expect, 1e-5);
  EXPECT_NEAR(t.fused.item(), std::log(2.0), 1e-6);
  EXPECT_NEAR(t.total.item(), std::log(2.0) + 0.5 * expect, 1e-5);
  // modality_weight 0: the fused term only.
  const TaskLossTerms only = task_loss(f, labels, TaskLossConfig{2.0, 0.0});
  EXPECT_FALSE(only.modalities.defined());
  EXPECT_NEAR(only.total.item(), 2 * std::log(2.0), 1e-6);
}

// A dropped modality's per-modality term counts 0 for that sample (dropout mode, training).
TEST(TaskHead, DropoutZeroesDroppedModalitiesWeights) {
  Generator gen(9);
  TaskConfig t = two_modalities(0.7, 0.3, WeightMode::kDropout);
  t.modality_dropout = 0.5;
  TaskHead head(t, small_core(), kD, kClasses, 5, gen);
  Generator g(12);
  const TaskForward f = head.forward(inputs(1, 2, 16), g, true);
  const auto w = f.weighted.weights.to_vector<double>();
  int dropped = 0;
  for (int64_t s = 0; s < 16; ++s) {
    EXPECT_NEAR(w[2 * s] + w[2 * s + 1], 1.0, 1e-6);
    dropped += (w[2 * s] == 0) + (w[2 * s + 1] == 0);
  }
  EXPECT_GT(dropped, 0);
  // Eval mode: the base weights, no dropout.
  head.eval();
  const TaskForward e = head.forward(inputs(1, 2, 16), g, false);
  EXPECT_NEAR(e.weighted.mean_weights[0], 0.7, 1e-6);
}

// Contrastive stages naming a task: the direction whose queries are modality a counts w_a.
// Checked against InfoNCE computed by hand, and equal weights give the symmetric loss.
TEST(DirectionalInfoNce, WeightsEachDirectionByItsQueryModality) {
  const Tensor za = testing::uniform({3, 2}, -1, 1, DType::kF32, 31);
  const Tensor zb = testing::uniform({3, 2}, -1, 1, DType::kF32, 32);
  const double scale = 5.0;
  const auto a = za.to_vector<double>(), b = zb.to_vector<double>();
  auto unit = [](std::vector<double> v, int64_t i) {
    const double n = std::sqrt(v[2 * i] * v[2 * i] + v[2 * i + 1] * v[2 * i + 1]);
    return std::pair<double, double>{v[2 * i] / n, v[2 * i + 1] / n};
  };
  double s[3][3];
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 3; ++j) {
      const auto [a0, a1] = unit(a, i);
      const auto [b0, b1] = unit(b, j);
      s[i][j] = scale * (a0 * b0 + a1 * b1);
    }
  double a_to_b = 0, b_to_a = 0;  // mean over rows of -log softmax at the matching item
  for (int i = 0; i < 3; ++i) {
    double row = 0, col = 0;
    for (int j = 0; j < 3; ++j) row += std::exp(s[i][j]), col += std::exp(s[j][i]);
    a_to_b += (std::log(row) - s[i][i]) / 3;
    b_to_a += (std::log(col) - s[i][i]) / 3;
  }
  const Tensor sc = Tensor::scalar(scale);
  EXPECT_NEAR(directional_info_nce(za, zb, sc, 0.7, 0.3).item(), 0.7 * a_to_b + 0.3 * b_to_a, 1e-5);
  EXPECT_NEAR(directional_info_nce(za, zb, sc, 1.0, 0.0).item(), a_to_b, 1e-5);
  EXPECT_NEAR(directional_info_nce(za, zb, sc, 2.0, 2.0).item(), align::info_nce(za, zb, sc).item(),
              1e-6);
  EXPECT_GT(std::abs(a_to_b - b_to_a), 1e-4);  // the example tells the directions apart
}

}  // namespace
}  // namespace chorus::recipe
