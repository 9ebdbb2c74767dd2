#include "core/nn/transformer.h"

#include <optional>

#include "core/autograd/node.h"
#include "core/nn/recompute.h"
#include "core/ops/elementwise.h"

namespace chorus::nn {

Transformer::Transformer(const TransformerConfig& config, Generator& gen)
    : Module("Transformer"), config_(config) {
  config.validate();
  blocks = register_module("blocks", std::make_shared<ModuleList>());
  for (int64_t i = 0; i < config.depth; ++i) {
    blocks_.push_back(blocks->push_back(std::make_shared<TransformerBlock>(config, i, gen)));
  }
  norm =
      register_module("norm", make_norm(config.norm, config.width, config.norm_eps, config.dtype));
}

BlockOutput Transformer::run_block(const std::shared_ptr<TransformerBlock>& block, const Tensor& x,
                                   const ForwardContext& ctx) {
  if (!config_.recompute || !is_training() || !autograd::grad_enabled() || ctx.recomputing) {
    return block->forward(x, ctx);
  }
  // The replay must draw the same dropout masks, so it gets a copy of the generator as it was
  // before this block ran; the first run advances the caller's generator as usual.
  const std::optional<Generator> start =
      ctx.gen ? std::optional<Generator>(*ctx.gen) : std::nullopt;
  ForwardContext replay_ctx = ctx;
  replay_ctx.gen = nullptr;
  replay_ctx.recomputing = true;
  Generator* live_gen = ctx.gen;  // used only by the first call, which happens right here
  auto fn = [block, replay_ctx, start, live_gen](const std::vector<Tensor>& in, bool recomputing) {
    ForwardContext c = replay_ctx;
    std::optional<Generator> replay_gen = start;  // a fresh copy per replay (retain_graph)
    if (recomputing) {
      c.gen = replay_gen ? &*replay_gen : nullptr;
    } else {
      c.gen = live_gen;
      c.recomputing = false;
    }
    BlockOutput out = block->forward(in[0], c);
    return std::vector<Tensor>{out.y, out.aux_loss};
  };
  std::vector<Tensor> out = recompute(fn, {x}, block->parameters());
  return {out[0], out[1]};
}

TransformerOutput Transformer::forward(const Tensor& x, const ForwardContext& ctx) {
  CHORUS_CHECK(x.dim() == 3 && x.size(2) == config_.width, "Transformer(width ", config_.width,
               "): input must be [B, L, ", config_.width, "], got ", shape_str(x.shape()));
  Tensor h = x;
  Tensor aux;
  for (const auto& block : blocks_) {
    BlockOutput out = run_block(block, h, ctx);
    h = out.y;
    if (out.aux_loss.defined()) aux = aux.defined() ? add(aux, out.aux_loss) : out.aux_loss;
  }
  return {norm->forward(h), aux};
}

}  // namespace chorus::nn
