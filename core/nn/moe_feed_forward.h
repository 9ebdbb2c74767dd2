// MoeFeedForward: the MoE layer (core/nn/moe/moe.h) behind the FeedForward interface, so a
// TransformerConfig can build MoE blocks through make_ffn. Parameter names are those of the
// MoE layer's parts under the block's FFN: blocks.<i>.ffn.router.weight,
// blocks.<i>.ffn.experts.w1, ...
#pragma once

#include <memory>

#include "core/nn/feed_forward.h"
#include "core/nn/moe/moe.h"
#include "core/nn/transformer_config.h"

namespace chorus::nn {

class MoeFeedForward : public FeedForward {
 public:
  explicit MoeFeedForward(const moe::MoeConfig& config);

  FeedForwardOutput forward(const Tensor& x, const ForwardContext& ctx) override;

  // Telemetry of the last forward that was not a recomputation.
  const moe::MoeTelemetry& last_telemetry() const { return last_; }
  moe::MoeLayer& layer() { return *layer_; }

 private:
  std::shared_ptr<moe::MoeLayer> layer_;
  moe::MoeTelemetry last_;
};

// A make_ffn factory building an MoE layer in every block from `base` (d_model is taken from
// the transformer width; the seed is offset per layer so experts differ between blocks).
FeedForwardFactory moe_ffn_factory(const moe::MoeConfig& base);

}  // namespace chorus::nn
