#include "tools/chorus/lm_ffn.h"

#include "core/nn/moe_feed_forward.h"

namespace chorus::cli {

void configure_ffn(nn::TransformerConfig& config, const std::string& ffn, int64_t experts,
                   int64_t top_k, int64_t expert_hidden) {
  config.ffn = nn::FfnKind::kSwiGLU;
  if (ffn == "dense") {
    config.ffn_hidden = top_k * expert_hidden;
    return;
  }
  nn::moe::MoeConfig moe;
  moe.d_ff = expert_hidden;
  moe.num_experts = experts;
  moe.top_k = top_k;
  moe.expert_kind = nn::moe::ExpertKind::kSwiGLU;
  moe.aux_loss_alpha = 0.01;
  moe.z_loss_coef = 1e-3;
  config.make_ffn = nn::moe_ffn_factory(moe);
}

int64_t active_parameters(const nn::CausalLM& model, int64_t experts, int64_t top_k) {
  int64_t total = 0, expert = 0;
  for (const auto& [name, t] : model.named_parameters()) {
    total += t.numel();
    if (name.find(".experts.") != std::string::npos) expert += t.numel();
  }
  return total - expert + expert / experts * top_k;
}

void add_ffn_metrics(nn::CausalLM& model, std::map<std::string, double>& metrics) {
  double imbalance = 0, aux = 0, z = 0;
  int layers = 0;
  for (int64_t i = 0; i < model.transformer->depth(); ++i) {
    auto* moe = dynamic_cast<nn::MoeFeedForward*>(model.transformer->block(i).ffn.get());
    if (moe == nullptr) continue;
    const auto& t = moe->last_telemetry();
    imbalance += t.load_imbalance();
    aux += t.aux_loss;
    z += t.z_loss;
    ++layers;
  }
  if (layers == 0) return;
  metrics["moe_max_load_ratio"] = imbalance / layers;
  metrics["moe_aux_loss"] = aux / layers;
  metrics["moe_z_loss"] = z / layers;
}

}  // namespace chorus::cli
