#include "core/recipe/task_head.h"

#include "core/nn/moe_feed_forward.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"

namespace chorus::recipe {

namespace {

nn::TransformerConfig core_config(const CoreConfig& c, int64_t width, uint64_t seed) {
  nn::TransformerConfig t;
  t.width = width;
  t.depth = c.layers;
  t.n_heads = c.heads;
  t.ffn = nn::FfnKind::kSwiGLU;
  t.ffn_hidden = c.ffn_hidden;
  t.causal = false;  // every fused token may attend to every other one
  t.rope = false;    // token order across modalities carries no meaning
  t.dropout = c.dropout;
  if (c.ffn == FfnKind::kMoe) {
    nn::moe::MoeConfig m;
    m.num_experts = c.experts;
    m.top_k = c.top_k;
    m.d_ff = t.resolved_ffn_hidden();
    m.expert_kind = nn::moe::ExpertKind::kSwiGLU;
    m.score = c.router == RouterScore::kSigmoid ? nn::moe::ScoreFunction::kSigmoid
                                                : nn::moe::ScoreFunction::kSoftmax;
    m.mode = c.capacity_factor > 0 ? nn::moe::MoeMode::kCapacity : nn::moe::MoeMode::kDropless;
    if (c.capacity_factor > 0) m.capacity_factor = c.capacity_factor;
    m.aux_loss_alpha = c.aux_loss_weight;
    m.z_loss_coef = c.z_loss_weight;
    m.bias_balancing = c.bias_balancing;
    m.num_shared_experts = c.shared_experts;
    m.seed = seed;
    t.make_ffn = nn::moe_ffn_factory(m);
  }
  t.validate();
  return t;
}

Tensor masked_mean(const Tensor& y, const Tensor& mask) {
  const Tensor m = mask.to(y.dtype()).unsqueeze(-1);  // [B, L, 1]
  return div(sum(mul(y, m), {1}), clamp(sum(m, {1}), 1.0, 1e30));
}

}  // namespace

align::WeightingMode weighting_mode(WeightMode mode) {
  switch (mode) {
    case WeightMode::kLearned:
      return align::WeightingMode::kLearnedGate;
    case WeightMode::kDropout:
      return align::WeightingMode::kModalityDropout;
    case WeightMode::kFixed:
      break;
  }
  return align::WeightingMode::kFixed;
}

TaskHead::TaskHead(const TaskConfig& task, const CoreConfig& core_cfg, int64_t shared_width,
                   int64_t num_classes, uint64_t seed, Generator& gen)
    : nn::Module("TaskHead"), task_(task), num_classes_(num_classes) {
  CHORUS_CHECK(num_classes >= 1, "task '", task.name, "': the classifier needs data.num_classes");
  align::ModalityWeightingOptions wo;
  wo.mode = weighting_mode(task.mode);
  wo.modalities = task.modalities;
  for (const auto& m : task.modalities) wo.weights.push_back(task.weights.at(m));
  // Dropout applies in dropout mode and (masking the softmax) in learned mode; fixed ignores it.
  wo.dropout = task.mode == WeightMode::kFixed ? 0.0 : task.modality_dropout;
  wo.dim = shared_width;
  // GMU's tanh projections only shape the fused pooled vector; token fusion does not use it.
  wo.gate_projections = task.fusion == TaskFusion::kPooled;
  weighting = register_module("weighting", std::make_shared<align::ModalityWeighting>(wo, gen));
  int64_t head_in = shared_width;
  if (task.fusion == TaskFusion::kTokens) {
    const int64_t width = core_cfg.width > 0 ? core_cfg.width : shared_width;
    if (width != shared_width) {
      proj = register_module("proj", std::make_shared<nn::Linear>(shared_width, width, gen));
    }
    core = register_module(
        "core", std::make_shared<nn::Transformer>(core_config(core_cfg, width, seed), gen));
    bias_balancing_ = core_cfg.ffn == FfnKind::kMoe && core_cfg.bias_balancing;
    head_in = width;
  }
  head = register_module("head", std::make_shared<nn::Linear>(head_in, num_classes, gen));
}

Tensor TaskHead::classify_tokens(const Tensor& tokens, const Tensor& mask, Generator& gen,
                                 Tensor* aux) const {
  Tensor x = proj ? proj->forward(tokens) : tokens;
  Tensor real = mask.defined()
                    ? mask.to(DType::kF32)
                    : Tensor::ones({tokens.size(0), tokens.size(1)}, DType::kF32, tokens.device());
  nn::ForwardContext ctx;
  ctx.key_padding_mask = eq(real, 0.0);
  ctx.gen = &gen;
  nn::TransformerOutput out = core->forward(x, ctx);
  if (out.aux_loss.defined()) *aux = aux->defined() ? add(*aux, out.aux_loss) : out.aux_loss;
  return head->forward(masked_mean(out.y, real));
}

TaskForward TaskHead::forward(const std::vector<align::ModalityInput>& inputs, Generator& gen,
                              bool unimodal) const {
  TaskForward out;
  out.weighted = weighting->forward(inputs, gen);
  if (core) {
    CHORUS_CHECK(out.weighted.tokens.defined(), "task '", task_.name,
                 "': token fusion needs the encoders' tokens");
    out.logits = classify_tokens(out.weighted.tokens, out.weighted.mask, gen, &out.aux_loss);
  } else {
    out.logits = head->forward(out.weighted.pooled);
  }
  if (unimodal) {
    for (const auto& in : inputs) {
      if (core) {
        out.unimodal.push_back(classify_tokens(in.tokens, in.mask, gen, &out.aux_loss));
      } else {
        const Tensor pooled = in.pooled.defined() ? in.pooled : masked_mean(in.tokens, in.mask);
        out.unimodal.push_back(head->forward(pooled));
      }
    }
  }
  return out;
}

void TaskHead::after_step() {
  if (!bias_balancing_) return;
  for (int64_t i = 0; i < core->depth(); ++i) {
    if (auto moe = std::dynamic_pointer_cast<nn::MoeFeedForward>(core->block(i).ffn)) {
      moe->layer().update_bias();
    }
  }
}

}  // namespace chorus::recipe
