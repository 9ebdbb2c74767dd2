// Router: scores, top-k and gate weights against a naive computation; bias steering selection
// only; the bias update rule; jitter.
#include "core/nn/moe/router.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/autograd/node.h"
#include "core/ops/reduce.h"
#include "test_util.h"

namespace chorus::nn::moe {
namespace {

using testing::AllClose;
using testing::uniform;

RouterConfig small_config(ScoreFunction score, bool renormalize, int64_t k = 2) {
  RouterConfig c;
  c.d_model = 4;
  c.num_experts = 5;
  c.top_k = k;
  c.score = score;
  c.renormalize = renormalize;
  c.dtype = DType::kF64;
  c.seed = 3;
  return c;
}

struct NaiveRouting {
  std::vector<double> scores;   // [N, E]
  std::vector<int64_t> chosen;  // [N, k]
  std::vector<double> weights;  // [N, k]
};

// Scores from x·Wᵀ, selection by a full sort of score + bias (ties to the lower index).
NaiveRouting naive_route(const Tensor& x, const Tensor& w, const std::vector<double>& bias,
                         ScoreFunction score, bool renormalize, int64_t k) {
  const int64_t n = x.size(0), d = x.size(1), e = w.size(0);
  const auto vx = x.to_vector<double>(), vw = w.to_vector<double>();
  NaiveRouting r;
  r.scores.resize(n * e);
  for (int64_t t = 0; t < n; ++t) {
    std::vector<double> logit(e, 0.0);
    for (int64_t i = 0; i < e; ++i) {
      for (int64_t c = 0; c < d; ++c) logit[i] += vx[t * d + c] * vw[i * d + c];
    }
    double z = 0;
    for (double l : logit) z += std::exp(l);
    for (int64_t i = 0; i < e; ++i) {
      r.scores[t * e + i] =
          score == ScoreFunction::kSoftmax ? std::exp(logit[i]) / z : 1 / (1 + std::exp(-logit[i]));
    }
    std::vector<int64_t> order(e);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return r.scores[t * e + a] + bias[a] > r.scores[t * e + b] + bias[b];
    });
    double total = 0;
    for (int64_t j = 0; j < k; ++j) total += r.scores[t * e + order[j]];
    for (int64_t j = 0; j < k; ++j) {
      r.chosen.push_back(order[j]);
      r.weights.push_back(r.scores[t * e + order[j]] / (renormalize ? total : 1.0));
    }
  }
  return r;
}

// x · wᵀ by a naive loop.
Tensor linear_reference(const Tensor& x, const Tensor& w) {
  const int64_t n = x.size(0), d = x.size(1), e = w.size(0);
  const auto vx = x.to_vector<double>(), vw = w.to_vector<double>();
  std::vector<double> out(n * e, 0.0);
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t i = 0; i < e; ++i) {
      for (int64_t c = 0; c < d; ++c) out[t * e + i] += vx[t * d + c] * vw[i * d + c];
    }
  }
  return testing::from(out, {n, e});
}

TEST(Router, MatchesNaiveRouting) {
  for (ScoreFunction score : {ScoreFunction::kSoftmax, ScoreFunction::kSigmoid}) {
    for (bool renorm : {false, true}) {
      for (int64_t k : {1, 2, 5}) {
        Router router(small_config(score, renorm, k));
        Tensor x = uniform({6, 4}, -2, 2, DType::kF64, 1);
        RouterOutput out = router.forward(x);
        NaiveRouting ref =
            naive_route(x, router.weight, std::vector<double>(5, 0.0), score, renorm, k);
        EXPECT_EQ(out.indices.to_vector<int64_t>(), ref.chosen);
        EXPECT_TRUE(AllClose(out.scores, testing::from(ref.scores, {6, 5}), 1e-14, 1e-12));
        EXPECT_TRUE(AllClose(out.weights, testing::from(ref.weights, {6, k}), 1e-14, 1e-12));
        if (renorm) {
          EXPECT_TRUE(AllClose(sum(out.weights, {1}), Tensor::ones({6}, DType::kF64), 1e-14));
        }
      }
    }
  }
}

TEST(Router, ComputesInF32ForReducedPrecision) {
  RouterConfig c = small_config(ScoreFunction::kSoftmax, false);
  c.dtype = DType::kBF16;
  Router router(c);
  RouterOutput out = router.forward(uniform({3, 4}, -1, 1, DType::kBF16, 2));
  EXPECT_EQ(out.logits.dtype(), DType::kF32);
  EXPECT_EQ(out.weights.dtype(), DType::kF32);
}

TEST(Router, BiasSteersSelectionButNotWeights) {
  RouterConfig c = small_config(ScoreFunction::kSigmoid, false);
  c.bias_balancing = true;
  Router router(c);
  ASSERT_TRUE(router.expert_bias.defined());
  // A large bias on expert 3 puts it first for every token; its gate weight stays its score.
  router.expert_bias.copy_(Tensor::from_doubles({0, 0, 0, 10, 0}, {5}, DType::kF32));
  Tensor x = uniform({6, 4}, -2, 2, DType::kF64, 3);
  RouterOutput out = router.forward(x);
  NaiveRouting ref =
      naive_route(x, router.weight, {0, 0, 0, 10, 0}, ScoreFunction::kSigmoid, false, 2);
  EXPECT_EQ(out.indices.to_vector<int64_t>(), ref.chosen);
  const auto idx = out.indices.to_vector<int64_t>();
  for (int64_t t = 0; t < 6; ++t) EXPECT_EQ(idx[t * 2], 3);
  EXPECT_TRUE(AllClose(out.weights, testing::from(ref.weights, {6, 2}), 1e-14, 1e-12));
  // The bias is a buffer: no gradient, and it is in the state dict.
  EXPECT_EQ(router.parameters().size(), 1u);
  EXPECT_EQ(router.named_buffers()[0].first, "expert_bias");
}

TEST(Router, UpdateBiasFollowsSignOfLoadGap) {
  RouterConfig c = small_config(ScoreFunction::kSoftmax, false);
  c.bias_balancing = true;
  c.bias_update_rate = 0.5;  // exact in binary
  Router router(c);
  // mean load 4: experts 0 and 2 are overloaded, 1 and 4 underloaded, 3 exactly at the mean.
  router.update_bias(Tensor::from_vector<int64_t>({9, 1, 6, 4, 0}, {5}));
  EXPECT_EQ(router.expert_bias.to_vector<double>(), (std::vector<double>{-0.5, 0.5, -0.5, 0, 0.5}));
  router.update_bias(Tensor::from_vector<int64_t>({9, 1, 6, 4, 0}, {5}));
  EXPECT_EQ(router.expert_bias.to_vector<double>(), (std::vector<double>{-1, 1, -1, 0, 1}));
  EXPECT_THROW(router.update_bias(Tensor::from_vector<int64_t>({1, 2}, {2})), Error);
  // After a conversion to bf16 the bias comes back to f32, so small steps are not lost.
  router.to(DType::kBF16);
  Tensor buffer = router.named_buffers()[0].second;
  router.update_bias(Tensor::from_vector<int64_t>({9, 1, 6, 4, 0}, {5}));
  EXPECT_EQ(buffer.dtype(), DType::kF32);
  EXPECT_EQ(router.expert_bias.dtype(), DType::kF32);
  EXPECT_EQ(buffer.to_vector<double>(), (std::vector<double>{-1.5, 1.5, -1.5, 0, 1.5}));
  Router plain(small_config(ScoreFunction::kSoftmax, false));
  EXPECT_FALSE(plain.expert_bias.defined());
  EXPECT_THROW(plain.update_bias(Tensor::zeros({5})), Error);
}

TEST(Router, JitterOnlyWhileTrainingAndReproducible) {
  RouterConfig c = small_config(ScoreFunction::kSoftmax, false);
  c.jitter_eps = 0.1;
  Router a(c), b(c);
  Tensor x = uniform({6, 4}, -2, 2, DType::kF64, 4);
  const Tensor clean = linear_reference(x, a.weight);
  a.eval();
  const uint64_t before = a.generator().offset();
  EXPECT_TRUE(AllClose(a.forward(x).logits, clean, 1e-14, 1e-14));
  EXPECT_EQ(a.generator().offset(), before);  // nothing drawn in eval
  a.train();
  Tensor la = a.forward(x).logits, lb = b.forward(x).logits;
  EXPECT_EQ(la.to_vector<double>(), lb.to_vector<double>());  // same seed, same noise
  EXPECT_FALSE(AllClose(la, clean, 1e-6, 0));
  // Each input element is scaled by a factor in [0.9, 1.1): |noisy - clean| <= 0.1·Σ|x·w|.
  const auto vx = x.to_vector<double>(), vw = a.weight.to_vector<double>();
  const auto vn = la.to_vector<double>(), vc = clean.to_vector<double>();
  for (int64_t t = 0; t < 6; ++t) {
    for (int64_t i = 0; i < 5; ++i) {
      double bound = 0;
      for (int64_t d = 0; d < 4; ++d) bound += 0.1 * std::fabs(vx[t * 4 + d] * vw[i * 4 + d]);
      EXPECT_LE(std::fabs(vn[t * 5 + i] - vc[t * 5 + i]), bound + 1e-12);
    }
  }
  EXPECT_FALSE(AllClose(a.forward(x).logits, la, 1e-6, 0));  // the stream moves on
}

TEST(Router, RejectsBadConfigAndInput) {
  EXPECT_THROW(Router{small_config(ScoreFunction::kSoftmax, false, 0)}, Error);
  EXPECT_THROW(Router{small_config(ScoreFunction::kSoftmax, false, 6)}, Error);  // k > E
  RouterConfig nine = small_config(ScoreFunction::kSoftmax, false, 9);
  nine.num_experts = 16;
  EXPECT_THROW(Router{nine}, Error);  // k > 8
  Router router(small_config(ScoreFunction::kSoftmax, false));
  EXPECT_THROW(router.forward(uniform({3, 5})), Error);
  EXPECT_THROW(router.forward(uniform({3})), Error);
}

}  // namespace
}  // namespace chorus::nn::moe
