// The MoE router (gating network): scores every token against every expert and picks each
// token's top-k experts.
//
//   logits  = x · weightᵀ                      (no bias; computed in f32, or f64 for f64 input)
//   scores  = softmax(logits) or sigmoid(logits)
//   chosen  = top-k of (scores + expert_bias)  (the bias only steers selection)
//   weights = scores at the chosen experts, optionally renormalised to sum to 1 per token
//
// Loss-free bias balancing (DeepSeek-V3, Wang et al. 2024 "Auxiliary-loss-free load
// balancing"): a non-trainable buffer `expert_bias` [E] is added to the scores for selection
// only, so the gate weights (and their gradients) stay those of the unbiased router. After
// each optimizer step the trainer calls update_bias() with the loads observed, which nudges
// overloaded experts down and underloaded ones up by a fixed step γ.
//
// Jitter: while training with jitter_eps > 0, the router's input is multiplied elementwise by
// factors uniform in [1 - ε, 1 + ε) (Switch Transformer), drawn from the router's own Philox
// generator, whose state the trainer can read and restore through generator().
#pragma once

#include <cstdint>

#include "core/nn/module.h"
#include "core/tensor/philox.h"

namespace chorus::nn::moe {

enum class ScoreFunction { kSoftmax, kSigmoid };

struct RouterConfig {
  int64_t d_model = 0;
  int64_t num_experts = 64;
  int64_t top_k = 2;  // 1 ... 8, at most num_experts
  ScoreFunction score = ScoreFunction::kSoftmax;
  bool renormalize = false;  // rescale each token's k gate weights to sum to 1
  double jitter_eps = 0.0;   // 0 disables jitter
  bool bias_balancing = false;
  double bias_update_rate = 1e-3;  // γ
  uint64_t seed = 0;               // initialisation and jitter stream
  DType dtype = DType::kF32;       // of the weight
};

struct RouterOutput {
  Tensor logits;   // [N, E], f32 (f64 for f64 input); differentiable
  Tensor scores;   // [N, E] softmax or sigmoid of logits; differentiable
  Tensor weights;  // [N, k] gate weights of the chosen experts; differentiable
  Tensor indices;  // i64 [N, k] chosen experts, by decreasing (biased) score
};

class Router : public Module {
 public:
  explicit Router(const RouterConfig& config);

  // x [N, d_model] -> the routing of its N tokens. Draws jitter from generator() only when
  // training with jitter_eps > 0.
  RouterOutput forward(const Tensor& x);

  // bias_i += γ · sign(mean_load - load_i) for the loads `tokens_per_expert` (integer or
  // floating [E]: assignments each expert received since the last update). Not recorded by
  // autograd. Throws unless bias balancing is enabled. The bias is kept in f32 (or f64): a
  // bias converted to a 16-bit float by Module::to() returns to f32 here.
  void update_bias(const Tensor& tokens_per_expert);

  const RouterConfig& config() const { return config_; }
  Generator& generator() { return generator_; }

  Tensor weight;       // [E, d_model], registered as "weight"
  Tensor expert_bias;  // [E] f32, registered as buffer "expert_bias" when bias balancing is on

 private:
  RouterConfig config_;
  Generator generator_;
};

}  // namespace chorus::nn::moe
