#include "core/nn/presets.h"

#include "core/nn/moe_feed_forward.h"

namespace chorus::nn::presets {
namespace {

MoeTransformerPreset make(int64_t width, int64_t depth, int64_t heads, int64_t experts,
                          int64_t expert_hidden) {
  MoeTransformerPreset p;
  p.moe.num_experts = experts;
  p.moe.top_k = 2;
  p.moe.d_ff = expert_hidden;
  p.moe.expert_kind = moe::ExpertKind::kSwiGLU;
  p.moe.aux_loss_alpha = 0.01;
  p.moe.z_loss_coef = 1e-3;
  p.transformer.width = width;
  p.transformer.depth = depth;
  p.transformer.n_heads = heads;
  p.transformer.make_ffn = moe_ffn_factory(p.moe);
  return p;
}

}  // namespace

MoeTransformerPreset seed_moe() { return make(2048, 24, 16, 64, 1408); }

MoeTransformerPreset tiny_moe() { return make(128, 4, 4, 8, 256); }

}  // namespace chorus::nn::presets
