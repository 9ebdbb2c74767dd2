// The MoE layer: equivalence with a dense FFN for one expert, forward and backward against a
// naive per-token loop, capacity mode, gradchecks, losses, telemetry and determinism.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "core/autograd/node.h"
#include "core/nn/moe/balancing.h"
#include "core/nn/moe/moe.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "core/ops/softmax.h"
#include "moe_reference.h"
#include "test_util.h"

namespace chorus::nn::moe {
namespace {

using reference::reference_ffn;
using reference::reference_moe;
using testing::AllClose;
using testing::uniform;

MoeConfig tiny(int64_t e, int64_t k, int64_t d, int64_t f) {
  MoeConfig c;
  c.num_experts = e;
  c.top_k = k;
  c.d_model = d;
  c.d_ff = f;
  c.dtype = DType::kF64;
  c.seed = 11;
  return c;
}

// The layer's input gradient and parameter gradients for upstream gradient g, in
// [x, parameters in registration order] order.
std::vector<Tensor> gradients_of(MoeLayer& layer, const Tensor& x, const Tensor& y,
                                 const Tensor& g) {
  layer.zero_grad();
  y.backward(g);
  std::vector<Tensor> grads{x.grad()};
  for (const Tensor& p : layer.parameters()) grads.push_back(p.grad());
  return grads;
}

TEST(MoeLayer, ParameterNames) {
  MoeConfig c = tiny(4, 2, 6, 5);
  c.num_shared_experts = 2;
  c.bias_balancing = true;
  MoeLayer layer(c);
  std::vector<std::string> names;
  for (const auto& [name, t] : layer.named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"router.weight", "experts.w1", "experts.w2",
                                             "experts.w3", "shared.w1", "shared.w2", "shared.w3"}));
  EXPECT_EQ(layer.experts->w1.shape(), (Shape{4, 6, 5}));
  EXPECT_EQ(layer.experts->w2.shape(), (Shape{4, 5, 6}));
  EXPECT_EQ(layer.shared->w1.shape(), (Shape{6, 10}));
  EXPECT_EQ(layer.named_buffers()[0].first, "router.expert_bias");
  c.expert_kind = ExpertKind::kGeluMlp;
  c.num_shared_experts = 0;
  EXPECT_EQ(MoeLayer(c).named_parameters().size(), 3u);  // router.weight, experts.w1, w2
}

TEST(MoeLayer, OneExpertEqualsDenseFeedForward) {
  for (ExpertKind kind : {ExpertKind::kSwiGLU, ExpertKind::kGeluMlp}) {
    MoeLayer layer([&] {
      MoeConfig c = tiny(1, 1, 6, 7);
      c.expert_kind = kind;
      return c;
    }());
    Tensor x = uniform({5, 6}, -1, 1, DType::kF64, 1);
    MoeOutput out = layer.forward(x);
    const GroupedExperts& ex = *layer.experts;
    Tensor dense = reference_ffn(x, ex.w1.select(0, 0), ex.w2.select(0, 0),
                                 ex.w3.defined() ? ex.w3.select(0, 0) : Tensor(), kind);
    EXPECT_TRUE(AllClose(out.y, dense, 1e-14, 1e-12));
    // One expert: f = P = 1, so the balance loss is exactly 1.
    EXPECT_DOUBLE_EQ(out.telemetry.aux_loss, 1.0);
  }
}

struct Variant {
  const char* name;
  ScoreFunction score;
  bool renormalize;
  ExpertKind kind;
  int64_t shared;
};
const Variant kVariants[] = {
    {"softmax", ScoreFunction::kSoftmax, false, ExpertKind::kSwiGLU, 0},
    {"softmax+renorm", ScoreFunction::kSoftmax, true, ExpertKind::kSwiGLU, 0},
    {"sigmoid+renorm+shared", ScoreFunction::kSigmoid, true, ExpertKind::kSwiGLU, 1},
    {"sigmoid+gelu", ScoreFunction::kSigmoid, false, ExpertKind::kGeluMlp, 0},
};

MoeConfig variant_config(const Variant& v, int64_t e, int64_t k, int64_t d, int64_t f) {
  MoeConfig c = tiny(e, k, d, f);
  c.score = v.score;
  c.renormalize = v.renormalize;
  c.expert_kind = v.kind;
  c.num_shared_experts = v.shared;
  return c;
}

TEST(MoeLayer, ForwardAndBackwardMatchNaivePerTokenLoop) {
  for (const Variant& v : kVariants) {
    SCOPED_TRACE(v.name);
    MoeLayer layer(variant_config(v, 4, 2, 6, 5));
    Tensor x = uniform({2, 5, 6}, -1, 1, DType::kF64, 2).set_requires_grad();
    Tensor g = uniform({2, 5, 6}, -1, 1, DType::kF64, 3);
    MoeOutput out = layer.forward(x);
    ASSERT_EQ(out.y.shape(), x.shape());
    const std::vector<Tensor> got = gradients_of(layer, x, out.y, g);

    x.set_grad(Tensor());
    Tensor ref = reference_moe(layer, x.reshape({10, 6})).reshape({2, 5, 6});
    EXPECT_TRUE(AllClose(out.y, ref, 1e-13, 1e-11));
    const std::vector<Tensor> want = gradients_of(layer, x, ref, g);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_TRUE(AllClose(got[i], want[i], 1e-13, 1e-11)) << "gradient " << i;
    }
  }
}

TEST(MoeLayer, Gradcheck) {
  for (const Variant& v : kVariants) {
    SCOPED_TRACE(v.name);
    MoeConfig c = variant_config(v, 3, 2, 4, 5);
    c.aux_loss_alpha = 0.1;
    c.seq_aux_loss_alpha = 0.05;
    MoeLayer layer(c);
    std::vector<Tensor> inputs{uniform({2, 3, 4}, -1, 1, DType::kF64, 4)};
    for (const Tensor& p : layer.parameters()) inputs.push_back(p.detach().clone());
    // The layer reads its weights through these handles, so pointing them at gradcheck's
    // leaves makes the output a function of the leaves.
    std::vector<Tensor*> slots{&layer.router->weight, &layer.experts->w1, &layer.experts->w2};
    if (layer.experts->w3.defined()) slots.push_back(&layer.experts->w3);
    if (layer.shared) {
      slots.insert(slots.end(), {&layer.shared->w1, &layer.shared->w2, &layer.shared->w3});
    }
    ASSERT_EQ(slots.size() + 1, inputs.size());
    EXPECT_GRADCHECK(
        [&](const std::vector<Tensor>& in) {
          for (size_t i = 0; i < slots.size(); ++i) *slots[i] = in[i + 1];
          MoeOutput out = layer.forward(in[0]);
          return add(out.y, out.aux_loss);  // both the output and the losses
        },
        inputs);
  }
}

TEST(MoeLayer, LargeCapacityEqualsDropless) {
  MoeConfig c = tiny(4, 2, 6, 5);
  MoeLayer dropless(c);
  c.mode = MoeMode::kCapacity;
  c.capacity_factor = 4.0;  // capacity = ceil(4·T·k/E) = T·k: nothing can be dropped
  MoeLayer capped(c);
  Tensor x = uniform({9, 6}, -1, 1, DType::kF64, 5).set_requires_grad();
  Tensor g = uniform({9, 6}, -1, 1, DType::kF64, 6);
  MoeOutput a = dropless.forward(x), b = capped.forward(x);
  EXPECT_EQ(a.y.to_vector<double>(), b.y.to_vector<double>());
  EXPECT_EQ(b.telemetry.dropped_fraction, 0.0);
  const auto ga = gradients_of(dropless, x, a.y, g);
  x.set_grad(Tensor());
  const auto gb = gradients_of(capped, x, b.y, g);
  for (size_t i = 0; i < ga.size(); ++i) {
    EXPECT_EQ(ga[i].to_vector<double>(), gb[i].to_vector<double>()) << "gradient " << i;
  }
}

TEST(MoeLayer, CapacityDropsLowestProbabilityAssignments) {
  // E = 2, k = 1, T = 4, capacity_factor 1: capacity = ceil(4·1/2) = 2. The router weight
  // reads feature 0 only, so logit_0 = x[t, 0], logit_1 = 0 and p_0 = sigmoid(x[t, 0]): every
  // token prefers expert 0, with p_0 = 0.9, 0.6, 0.8, 0.7. Expert 0 keeps tokens 0 and 2.
  MoeConfig c = tiny(2, 1, 3, 4);
  c.mode = MoeMode::kCapacity;
  c.capacity_factor = 1.0;
  MoeLayer layer(c);
  layer.router->weight.copy_(testing::from({1, 0, 0, 0, 0, 0}, {2, 3}));
  auto logit = [](double p) { return std::log(p / (1 - p)); };
  Tensor x = testing::from(
      {logit(0.9), 0.5, -0.2, logit(0.6), -0.3, 0.1, logit(0.8), 0.7, 0.4, logit(0.7), 0.2, -0.6},
      {4, 3});
  MoeOutput out = layer.forward(x);
  EXPECT_EQ(out.telemetry.tokens_per_expert.to_vector<int64_t>(), (std::vector<int64_t>{4, 0}));
  EXPECT_DOUBLE_EQ(out.telemetry.dropped_fraction, 0.5);
  EXPECT_DOUBLE_EQ(out.telemetry.max_load, 4.0);
  EXPECT_DOUBLE_EQ(out.telemetry.mean_load, 2.0);
  EXPECT_TRUE(AllClose(out.y, reference_moe(layer, x, /*dropped=*/{1, 3}), 1e-14, 1e-12));
  const auto y = out.y.to_vector<double>();
  for (int64_t i = 3; i < 6; ++i) EXPECT_EQ(y[i], 0.0);   // token 1 was dropped
  for (int64_t i = 9; i < 12; ++i) EXPECT_EQ(y[i], 0.0);  // token 3 was dropped
}

TEST(MoeLayer, CapacityWithTopTwoMatchesReferenceWithSameDrops) {
  // Capacity 3 for 8 tokens, k = 2, E = 4 (factor 0.75): drops happen; the reference leaves
  // out the same slots, which are the lowest-probability ones of each overfull expert.
  MoeConfig c = tiny(4, 2, 5, 3);
  c.mode = MoeMode::kCapacity;
  c.capacity_factor = 0.75;
  MoeLayer layer(c);
  Tensor x = uniform({8, 5}, -2, 2, DType::kF64, 7);
  MoeOutput out = layer.forward(x);
  // Recompute the drops naively: for each expert, its slots sorted by probability.
  const Tensor probs = softmax(matmul(x, layer.router->weight.t()), -1);
  const auto p = probs.to_vector<double>();
  std::vector<std::vector<std::pair<double, int64_t>>> by_expert(4);
  for (int64_t t = 0; t < 8; ++t) {
    std::vector<int64_t> order{0, 1, 2, 3};
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return p[t * 4 + a] > p[t * 4 + b]; });
    for (int64_t j = 0; j < 2; ++j) by_expert[order[j]].push_back({p[t * 4 + order[j]], t * 2 + j});
  }
  std::set<int64_t> dropped;
  for (auto& slots : by_expert) {
    std::stable_sort(slots.begin(), slots.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    for (size_t i = 3; i < slots.size(); ++i) dropped.insert(slots[i].second);
  }
  ASSERT_FALSE(dropped.empty());
  EXPECT_DOUBLE_EQ(out.telemetry.dropped_fraction, dropped.size() / 16.0);
  EXPECT_TRUE(AllClose(out.y, reference_moe(layer, x, dropped), 1e-14, 1e-12));
}

TEST(MoeLayer, AuxLossIsTheSumOfEnabledScaledLosses) {
  MoeConfig c = tiny(4, 2, 6, 5);
  c.aux_loss_alpha = 0.25;
  c.z_loss_coef = 0.125;
  c.seq_aux_loss_alpha = 0.5;
  c.score = ScoreFunction::kSigmoid;
  MoeLayer layer(c);
  Tensor x = uniform({3, 4, 6}, -1, 1, DType::kF64, 8);
  MoeOutput out = layer.forward(x);
  // Recompute from the router's outputs with the (separately tested) loss functions.
  RouterOutput r = layer.router->forward(x.reshape({12, 6}));
  Tensor probs = div(r.scores, sum(r.scores, {-1}, true));  // sigmoid scores normalised
  const double balance = load_balancing_loss(probs, r.indices, 4).item();
  const double z = router_z_loss(r.logits).item();
  const double seq =
      sequence_balancing_loss(probs.reshape({3, 4, 4}), r.indices.reshape({3, 4, 2}), 4).item();
  EXPECT_NEAR(out.telemetry.aux_loss, balance, 1e-15);
  EXPECT_NEAR(out.telemetry.z_loss, z, 1e-15);
  EXPECT_NEAR(out.aux_loss.item(), 0.25 * balance + 0.125 * z + 0.5 * seq, 1e-14);
  // All disabled: a zero without gradient, while the telemetry still reports the values.
  c.aux_loss_alpha = c.z_loss_coef = c.seq_aux_loss_alpha = 0;
  MoeLayer quiet(c);
  MoeOutput q = quiet.forward(x);
  EXPECT_EQ(q.aux_loss.item(), 0.0);
  EXPECT_FALSE(q.aux_loss.requires_grad());
  EXPECT_GT(q.telemetry.z_loss, 0.0);
}

TEST(MoeLayer, Telemetry) {
  MoeLayer layer(tiny(4, 3, 6, 5));
  MoeOutput out = layer.forward(uniform({10, 6}, -1, 1, DType::kF64, 9));
  const auto load = out.telemetry.tokens_per_expert.to_vector<int64_t>();
  ASSERT_EQ(load.size(), 4u);
  int64_t total = 0, most = 0;
  for (int64_t l : load) total += l, most = std::max(most, l);
  EXPECT_EQ(total, 30);
  EXPECT_EQ(out.telemetry.max_load, static_cast<double>(most));
  EXPECT_EQ(out.telemetry.mean_load, 7.5);
  EXPECT_EQ(out.telemetry.load_imbalance(), most / 7.5);
  EXPECT_EQ(out.telemetry.dropped_fraction, 0.0);
}

TEST(MoeLayer, UpdateBiasUsesLoadsSinceLastCall) {
  MoeConfig c = tiny(4, 1, 6, 5);
  c.bias_balancing = true;
  c.bias_update_rate = 0.25;
  MoeLayer layer(c);
  Tensor x = uniform({10, 6}, -1, 1, DType::kF64, 10);
  const auto l1 = layer.forward(x).telemetry.tokens_per_expert.to_vector<int64_t>();
  layer.eval();
  layer.forward(uniform({10, 6}, -1, 1, DType::kF64, 11));  // eval forwards do not count
  layer.train();
  const auto l2 = layer.forward(x).telemetry.tokens_per_expert.to_vector<int64_t>();
  layer.update_bias();
  const auto bias = layer.router->expert_bias.to_vector<double>();
  for (int64_t i = 0; i < 4; ++i) {
    const double gap = 5.0 - static_cast<double>(l1[i] + l2[i]);  // mean of 20 over 4
    EXPECT_EQ(bias[i], gap > 0 ? 0.25 : gap < 0 ? -0.25 : 0.0) << "expert " << i;
  }
  layer.update_bias();  // nothing new: no change
  EXPECT_EQ(layer.router->expert_bias.to_vector<double>(), bias);
  EXPECT_THROW(MoeLayer(tiny(4, 1, 6, 5)).update_bias(), Error);
}

TEST(MoeLayer, SameSeedIsBitwiseReproducible) {
  auto run = [](uint64_t seed) {
    MoeConfig c = tiny(8, 2, 16, 12);
    c.dtype = DType::kF32;
    c.seed = seed;
    c.jitter_eps = 0.05;
    c.num_shared_experts = 1;
    c.seq_aux_loss_alpha = 0.01;
    MoeLayer layer(c);
    Tensor x = uniform({4, 16, 16}, -1, 1, DType::kF32, 12).set_requires_grad();
    std::vector<std::vector<float>> result;
    for (int step = 0; step < 2; ++step) {  // the second step draws fresh jitter
      MoeOutput out = layer.forward(x);
      add(sum(square(out.y)), out.aux_loss).backward();
      result.push_back(out.y.to_vector<float>());
      result.push_back({static_cast<float>(out.aux_loss.item())});
      for (const Tensor& p : layer.parameters()) result.push_back(p.grad().to_vector<float>());
      result.push_back(x.grad().to_vector<float>());
    }
    return result;
  };
  const auto a = run(5), b = run(5), other = run(6);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, other);
}

TEST(MoeLayer, ReducedPrecisionParameters) {
  MoeConfig c = tiny(4, 2, 8, 6);
  c.dtype = DType::kBF16;
  MoeLayer layer(c);
  Tensor x = uniform({5, 8}, -1, 1, DType::kBF16, 13).set_requires_grad();
  MoeOutput out = layer.forward(x);
  EXPECT_EQ(out.y.dtype(), DType::kBF16);
  EXPECT_EQ(out.aux_loss.dtype(), DType::kF32);  // losses come from the f32 router
  add(sum(out.y.to(DType::kF32)), out.aux_loss).backward();
  for (const Tensor& p : layer.parameters()) EXPECT_EQ(p.grad().dtype(), DType::kBF16);
}

TEST(MoeLayer, EmptyBatch) {
  MoeLayer layer(tiny(4, 2, 6, 5));
  MoeOutput out = layer.forward(Tensor::zeros({0, 6}, DType::kF64));
  EXPECT_EQ(out.y.shape(), (Shape{0, 6}));
  EXPECT_EQ(out.aux_loss.item(), 0.0);
}

TEST(MoeLayer, RejectsBadInputAndConfig) {
  MoeLayer layer(tiny(4, 2, 6, 5));
  EXPECT_THROW(layer.forward(uniform({3, 5})), Error);
  EXPECT_THROW(layer.forward(uniform({1, 2, 3, 6})), Error);
  EXPECT_THROW(layer.forward(uniform({6})), Error);
  MoeConfig bad = tiny(4, 2, 6, 5);
  bad.top_k = 5;
  EXPECT_THROW(MoeLayer{bad}, Error);
  bad = tiny(4, 2, 6, 5);
  bad.mode = MoeMode::kCapacity;
  bad.capacity_factor = 0;
  EXPECT_THROW(MoeLayer{bad}, Error);
  bad = tiny(4, 2, 6, 0);
  EXPECT_THROW(MoeLayer{bad}, Error);
}

}  // namespace
}  // namespace chorus::nn::moe
