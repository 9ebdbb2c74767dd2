#include "core/nn/moe_feed_forward.h"

namespace chorus::nn {

MoeFeedForward::MoeFeedForward(const moe::MoeConfig& config)
    : FeedForward("MoeFeedForward"), layer_(std::make_shared<moe::MoeLayer>(config)) {
  // The parts are registered here (not the layer itself) so names read ffn.experts.w1.
  register_module("router", layer_->router);
  register_module("experts", layer_->experts);
  if (layer_->shared) register_module("shared", layer_->shared);
}

FeedForwardOutput MoeFeedForward::forward(const Tensor& x, const ForwardContext& ctx) {
  layer_->train(is_training());
  moe::MoeOutput out = layer_->forward(x);
  if (!ctx.recomputing) last_ = out.telemetry;
  return {out.y, out.aux_loss};
}

FeedForwardFactory moe_ffn_factory(const moe::MoeConfig& base) {
  return [base](const TransformerConfig& config, int64_t layer, Generator& gen) {
    moe::MoeConfig c = base;
    c.d_model = config.width;
    c.dtype = config.dtype;
    c.seed = base.seed + 7919 * static_cast<uint64_t>(layer + 1) + gen.seed();
    return std::make_shared<MoeFeedForward>(c);
  };
}

}  // namespace chorus::nn
