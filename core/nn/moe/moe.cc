#include "core/nn/moe/moe.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/autograd/node.h"
#include "core/nn/moe/balancing.h"
#include "core/nn/moe/permute.h"
#include "core/ops/elementwise.h"
#include "core/ops/index.h"
#include "core/ops/reduce.h"

namespace chorus::nn::moe {

namespace {

RouterConfig router_config(const MoeConfig& c) {
  RouterConfig r;
  r.d_model = c.d_model;
  r.num_experts = c.num_experts;
  r.top_k = c.top_k;
  r.score = c.score;
  r.renormalize = c.renormalize;
  r.jitter_eps = c.jitter_eps;
  r.bias_balancing = c.bias_balancing;
  r.bias_update_rate = c.bias_update_rate;
  r.seed = c.seed;
  r.dtype = c.dtype;
  return r;
}

// The expert weights get their own Philox key so that their stream never overlaps the
// router's (which uses `seed` itself for its weight and jitter).
constexpr uint64_t kExpertStreamKey = 0x6d6f652d65787073ULL;  // "moe-exps"

void check_config(const MoeConfig& c) {
  CHORUS_CHECK(c.aux_loss_alpha >= 0 && c.z_loss_coef >= 0 && c.seq_aux_loss_alpha >= 0,
               "MoeLayer: loss coefficients must be >= 0, got aux ", c.aux_loss_alpha, ", z ",
               c.z_loss_coef, ", seq aux ", c.seq_aux_loss_alpha);
  CHORUS_CHECK(c.mode == MoeMode::kDropless || c.capacity_factor > 0,
               "MoeLayer: capacity_factor must be positive, got ", c.capacity_factor);
  CHORUS_CHECK(c.num_shared_experts >= 0, "MoeLayer: num_shared_experts must be >= 0, got ",
               c.num_shared_experts);
}

}  // namespace

MoeLayer::MoeLayer(const MoeConfig& config) : Module("MoeLayer"), config_(config) {
  check_config(config);
  router = register_module("router", std::make_shared<Router>(router_config(config)));
  Generator gen(config.seed ^ kExpertStreamKey);
  experts = register_module(
      "experts", std::make_shared<GroupedExperts>(config.num_experts, config.d_model, config.d_ff,
                                                  config.expert_kind, config.dtype, gen));
  if (config.num_shared_experts > 0) {
    shared = register_module("shared", std::make_shared<DenseFeedForward>(
                                           config.d_model, config.num_shared_experts * config.d_ff,
                                           config.expert_kind, config.dtype, gen));
  }
}

MoeOutput MoeLayer::forward(const Tensor& x) {
  const int64_t d = config_.d_model, e = config_.num_experts, k = config_.top_k;
  CHORUS_CHECK(x.defined() && (x.dim() == 2 || x.dim() == 3) && x.size(-1) == d,
               "MoeLayer: expects x [T, ", d, "] or [B, L, ", d, "], got ",
               x.defined() ? shape_str(x.shape()) : "undefined");
  const int64_t tokens = x.numel() / d;
  const Tensor xf = x.reshape({tokens, d});
  const RouterOutput r = router->forward(xf);

  int64_t capacity = -1;
  Tensor priority;
  if (config_.mode == MoeMode::kCapacity) {
    capacity = static_cast<int64_t>(
        std::ceil(config_.capacity_factor * static_cast<double>(tokens * k) / e));
    // Drops go by router probability, not by the (possibly renormalised) gate weight.
    autograd::NoGradGuard no_grad;
    priority = gather(r.scores.detach(), 1, r.indices);
  }
  const RoutingPlan plan = make_routing_plan(r.indices, e, capacity, priority);
  const Tensor h = experts->forward(permute_tokens(xf, plan), plan.offsets);
  Tensor y = unpermute_tokens(h, plan, r.weights);
  if (shared) y = add(y, shared->forward(xf));

  MoeOutput out;
  out.y = y.reshape(x.shape());
  const DType loss_dtype = r.logits.dtype();
  out.aux_loss = Tensor::scalar(0.0, loss_dtype);
  MoeTelemetry& tel = out.telemetry;
  tel.tokens_per_expert = plan.tokens_per_expert;
  const std::vector<int64_t> load = plan.tokens_per_expert.to_vector<int64_t>();
  tel.max_load = static_cast<double>(*std::max_element(load.begin(), load.end()));
  tel.mean_load = static_cast<double>(tokens * k) / static_cast<double>(e);
  tel.dropped_fraction =
      tokens > 0 ? static_cast<double>(plan.num_dropped) / static_cast<double>(tokens * k) : 0.0;
  if (is_training() && config_.bias_balancing) {
    autograd::NoGradGuard no_grad;
    pending_load_ = pending_load_.defined() ? add(pending_load_, plan.tokens_per_expert)
                                            : plan.tokens_per_expert.clone();
  }
  if (tokens == 0) return out;  // no token, no loss

  // Each loss is always computed for the telemetry (it is cheap: O(T·E)); it joins the graph
  // only when its coefficient is positive.
  auto loss_term = [&](double coef, const auto& compute) {
    if (coef > 0) {
      const Tensor value = compute();
      out.aux_loss = add(out.aux_loss, mul(value, coef));
      return value.item();
    }
    autograd::NoGradGuard no_grad;
    return compute().item();
  };
  const Tensor probs = config_.score == ScoreFunction::kSoftmax
                           ? r.scores
                           : div(r.scores, sum(r.scores, {-1}, true));
  tel.aux_loss =
      loss_term(config_.aux_loss_alpha, [&] { return load_balancing_loss(probs, r.indices, e); });
  tel.z_loss = loss_term(config_.z_loss_coef, [&] { return router_z_loss(r.logits); });
  if (config_.seq_aux_loss_alpha > 0) {
    const int64_t b = x.dim() == 3 ? x.size(0) : 1, l = tokens / b;
    loss_term(config_.seq_aux_loss_alpha, [&] {
      return sequence_balancing_loss(probs.reshape({b, l, e}), r.indices.reshape({b, l, k}), e);
    });
  }
  return out;
}

void MoeLayer::update_bias() {
  CHORUS_CHECK(config_.bias_balancing, "MoeLayer::update_bias: bias balancing is disabled");
  if (!pending_load_.defined()) return;  // no training forward since the last update
  router->update_bias(pending_load_);
  pending_load_ = Tensor();
}

}  // namespace chorus::nn::moe
