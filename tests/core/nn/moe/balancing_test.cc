// Balancing losses against their closed forms: values, and the gradient of the aux loss with
// respect to the router logits.
#include "core/nn/moe/balancing.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/ops/softmax.h"
#include "test_util.h"

namespace chorus::nn::moe {
namespace {

using testing::AllClose;
using testing::uniform;

// Softmax rows of a [N, E] tensor, computed naively.
std::vector<double> naive_softmax(const Tensor& logits) {
  const int64_t n = logits.size(0), e = logits.size(1);
  auto v = logits.to_vector<double>();
  for (int64_t t = 0; t < n; ++t) {
    double z = 0;
    for (int64_t i = 0; i < e; ++i) z += std::exp(v[t * e + i]);
    for (int64_t i = 0; i < e; ++i) v[t * e + i] = std::exp(v[t * e + i]) / z;
  }
  return v;
}

TEST(Balancing, ExpertCounts) {
  Tensor idx = Tensor::from_vector<int64_t>({0, 2, 2, 1, 2, 0}, {3, 2});
  EXPECT_EQ(expert_counts(idx, 4).to_vector<int64_t>(), (std::vector<int64_t>{2, 1, 3, 0}));
  EXPECT_THROW(expert_counts(idx, 2), Error);
}

TEST(Balancing, AuxLossValueAndLogitGradientMatchClosedForm) {
  const int64_t n = 5, e = 4;
  Tensor logits = uniform({n, e}, -2, 2, DType::kF64, 1).set_requires_grad();
  Tensor idx = Tensor::from_vector<int64_t>({0, 1, 0, 2, 3, 0, 1, 0, 2, 1}, {n, 2});
  Tensor loss = load_balancing_loss(softmax(logits, -1), idx, e);
  // f = counts / (N·k) = {4, 3, 2, 1} / 10; P_i = mean_t p_ti; loss = E·Σ f_i P_i.
  const std::vector<double> f{0.4, 0.3, 0.2, 0.1};
  const auto p = naive_softmax(logits);
  double expect = 0;
  for (int64_t i = 0; i < e; ++i) {
    double mean_p = 0;
    for (int64_t t = 0; t < n; ++t) mean_p += p[t * e + i] / n;
    expect += e * f[i] * mean_p;
  }
  EXPECT_NEAR(loss.item(), expect, 1e-14);
  // d loss / d logit[t, j] = E/N · p_tj · (f_j - Σ_i f_i p_ti).
  loss.backward();
  std::vector<double> grad(n * e);
  for (int64_t t = 0; t < n; ++t) {
    double fp = 0;
    for (int64_t i = 0; i < e; ++i) fp += f[i] * p[t * e + i];
    for (int64_t j = 0; j < e; ++j) {
      grad[t * e + j] = static_cast<double>(e) / n * p[t * e + j] * (f[j] - fp);
    }
  }
  EXPECT_TRUE(AllClose(logits.grad(), testing::from(grad, {n, e}), 1e-14, 1e-12));
}

TEST(Balancing, AuxLossIsOneWhenUniform) {
  Tensor probs = Tensor::full({4, 4}, 0.25, DType::kF64);
  Tensor idx = Tensor::from_vector<int64_t>({0, 1, 2, 3, 1, 0, 3, 2}, {4, 2});
  EXPECT_DOUBLE_EQ(load_balancing_loss(probs, idx, 4).item(), 1.0);
}

TEST(Balancing, ZLossMatchesClosedForm) {
  Tensor logits = uniform({3, 5}, -3, 3, DType::kF64, 2).set_requires_grad();
  Tensor z = router_z_loss(logits);
  const auto v = logits.to_vector<double>();
  double expect = 0;
  std::vector<double> grad(15);
  for (int t = 0; t < 3; ++t) {
    double s = 0;
    for (int i = 0; i < 5; ++i) s += std::exp(v[t * 5 + i]);
    const double lse = std::log(s);
    expect += lse * lse / 3;
    // d/dlogit = 2·lse/N · softmax
    for (int i = 0; i < 5; ++i) grad[t * 5 + i] = 2 * lse / 3 * std::exp(v[t * 5 + i]) / s;
  }
  EXPECT_NEAR(z.item(), expect, 1e-13);
  z.backward();
  EXPECT_TRUE(AllClose(logits.grad(), testing::from(grad, {3, 5}), 1e-14, 1e-12));
}

TEST(Balancing, SequenceLossAveragesPerSequenceLosses) {
  Tensor probs = softmax(uniform({2, 3, 4}, -1, 1, DType::kF64, 3), -1);
  Tensor idx = Tensor::from_vector<int64_t>({0, 1, 0, 2, 0, 3, 3, 2, 3, 1, 2, 3}, {2, 3, 2});
  const double a = load_balancing_loss(probs.select(0, 0), idx.select(0, 0), 4).item();
  const double b = load_balancing_loss(probs.select(0, 1), idx.select(0, 1), 4).item();
  EXPECT_NEAR(sequence_balancing_loss(probs, idx, 4).item(), (a + b) / 2, 1e-15);
  // Skew inside each sequence counts even when the batch as a whole is balanced: sequence 0
  // goes to expert 0 (p = 0.9), sequence 1 to expert 1. Per sequence E·Σ f P = 2·0.9; over the
  // batch f = P = (0.5, 0.5), giving 1.
  Tensor skew = testing::from({0.9, 0.1, 0.9, 0.1, 0.1, 0.9, 0.1, 0.9}, {2, 2, 2});
  Tensor split = Tensor::from_vector<int64_t>({0, 0, 1, 1}, {2, 2, 1});
  EXPECT_NEAR(sequence_balancing_loss(skew, split, 2).item(), 1.8, 1e-15);
  EXPECT_NEAR(load_balancing_loss(skew.reshape({4, 2}), split.reshape({4, 1}), 2).item(), 1.0,
              1e-15);
  EXPECT_GRADCHECK(
      [&](const std::vector<Tensor>& in) {
        return sequence_balancing_loss(softmax(in[0], -1), idx, 4);
      },
      {uniform({2, 3, 4}, -1, 1, DType::kF64, 4)});
}

TEST(Balancing, RejectsMisuse) {
  Tensor probs = Tensor::full({2, 3}, 1.0 / 3, DType::kF64);
  EXPECT_THROW(load_balancing_loss(probs, Tensor::from_vector<int64_t>({0, 3}, {2, 1}), 3), Error);
  EXPECT_THROW(load_balancing_loss(probs, Tensor::from_vector<int64_t>({0, 1}, {2, 1}), 4), Error);
  EXPECT_THROW(router_z_loss(Tensor::zeros({0, 3})), Error);
}

}  // namespace
}  // namespace chorus::nn::moe
