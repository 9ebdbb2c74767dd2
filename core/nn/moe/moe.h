// The mixture-of-experts feed-forward layer of the core MoE transformer (DESIGN.md "MoE
// core"): a router picks top-k of E experts per token, the tokens are permuted into expert
// order, all experts run as grouped matmuls, and the outputs are summed back per token
// weighted by the gate weights. Optional always-on shared experts are added to every token.
//
// Modes: dropless (default) processes every assignment; capacity mode gives each expert at
// most ceil(capacity_factor · T · k / E) assignments per forward and drops the rest, lowest
// router probability first (a dropped assignment contributes nothing; the residual stream
// carries the token).
//
// Balancing (any combination):
//  * aux_loss_alpha · E · Σ f_i P_i                (Switch/GShard; see balancing.h)
//  * z_loss_coef · mean(logsumexp(logits)²)        (ST-MoE router z-loss)
//  * seq_aux_loss_alpha · the same per sequence    (needs x as [B, L, d])
//  * loss-free bias balancing: the trainer calls update_bias() after each optimizer step.
// For sigmoid scoring, P uses each token's scores normalised to sum to 1.
//
// Parameters: router.weight [E, d], experts.w1/w3 [E, d, f], experts.w2 [E, f, d],
// shared.w1/w3 [d, n_shared·f], shared.w2 [n_shared·f, d]; buffer router.expert_bias [E] with
// bias balancing.
#pragma once

#include <cstdint>
#include <memory>

#include "core/nn/module.h"
#include "core/nn/moe/experts.h"
#include "core/nn/moe/router.h"

namespace chorus::nn::moe {

enum class MoeMode { kDropless, kCapacity };

struct MoeConfig {
  int64_t d_model = 0;
  int64_t d_ff = 0;  // hidden width of one expert
  int64_t num_experts = 64;
  int64_t top_k = 2;
  ExpertKind expert_kind = ExpertKind::kSwiGLU;
  ScoreFunction score = ScoreFunction::kSoftmax;
  bool renormalize = false;
  MoeMode mode = MoeMode::kDropless;
  double capacity_factor = 1.25;    // capacity mode only
  double aux_loss_alpha = 0.01;     // 0 disables
  double z_loss_coef = 1e-3;        // 0 disables
  double seq_aux_loss_alpha = 0.0;  // 0 disables
  bool bias_balancing = false;      // loss-free balancing
  double bias_update_rate = 1e-3;   // γ
  double jitter_eps = 0.0;          // router input jitter while training; 0 disables
  int64_t num_shared_experts = 0;   // 0: no shared experts
  DType dtype = DType::kF32;        // parameter dtype
  uint64_t seed = 0;                // initialisation and jitter
};

// What one forward observed, for logging and the run report.
struct MoeTelemetry {
  Tensor tokens_per_expert;       // i64 [E]: assignments routed to each expert (before drops)
  double max_load = 0.0;          // largest entry of tokens_per_expert
  double mean_load = 0.0;         // T·k / E
  double dropped_fraction = 0.0;  // dropped assignments / (T·k); 0 when dropless
  double aux_loss = 0.0;          // E·Σ f_i P_i, unscaled (1 when perfectly balanced)
  double z_loss = 0.0;            // mean(logsumexp(logits)²), unscaled
  double load_imbalance() const { return mean_load > 0.0 ? max_load / mean_load : 0.0; }
};

struct MoeOutput {
  Tensor y;         // x's shape and dtype
  Tensor aux_loss;  // 0-dim: the sum of the enabled balancing losses, scaled (0 if none)
  MoeTelemetry telemetry;
};

class MoeLayer : public Module {
 public:
  explicit MoeLayer(const MoeConfig& config);

  // x [T, d] or [B, L, d] (needed for the sequence-level loss) -> y of the same shape.
  MoeOutput forward(const Tensor& x);

  // Applies loss-free bias balancing with the loads of every training forward since the last
  // call, then resets them. Call once per optimizer step. Throws unless bias_balancing.
  void update_bias();

  const MoeConfig& config() const { return config_; }

  std::shared_ptr<Router> router;
  std::shared_ptr<GroupedExperts> experts;
  std::shared_ptr<DenseFeedForward> shared;  // null without shared experts

 private:
  MoeConfig config_;
  Tensor pending_load_;  // i64 [E], accumulated for update_bias()
};

}  // namespace chorus::nn::moe
