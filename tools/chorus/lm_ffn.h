// The feed-forward choice of `chorus lm`: dense SwiGLU, or MoE layers with the same number
// of active parameters per token (dense hidden = top_k · expert hidden).
#pragma once

#include <map>
#include <string>

#include "core/nn/causal_lm.h"

namespace chorus::cli {

void configure_ffn(nn::TransformerConfig& config, const std::string& ffn, int64_t experts,
                   int64_t top_k, int64_t expert_hidden);

// Parameters one token passes through: all of them for dense models; for MoE models the
// unrouted experts' weights are left out.
int64_t active_parameters(const nn::CausalLM& model, int64_t experts, int64_t top_k);

// MoE telemetry of the last forward, averaged over layers (nothing for dense models):
// moe_max_load_ratio (max/mean tokens per expert), moe_aux_loss, moe_z_loss.
void add_ffn_metrics(nn::CausalLM& model, std::map<std::string, double>& metrics);

}  // namespace chorus::cli
