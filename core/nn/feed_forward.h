// FeedForward: the interface of a transformer block's position-wise sublayer, so that the
// dense MLPs (mlp.h) and the Mixture-of-Experts layer (core/nn/moe/) are interchangeable in
// TransformerBlock.
//
// An implementation maps x [..., D] to y of the same shape and may add an auxiliary loss
// (MoE load-balancing and router z-losses, already weighted by their coefficients) that the
// training loop adds to the task loss. The block and the stack sum the aux losses of all
// layers; an undefined aux_loss means "none".
//
// forward() is not const: an MoE layer records per-expert load while training. Under
// activation recomputation forward() runs twice for one batch (see ForwardContext::
// recomputing) and must compute identical values both times.
#pragma once

#include "core/nn/context.h"
#include "core/nn/module.h"

namespace chorus::nn {

struct FeedForwardOutput {
  Tensor y;         // same shape as the input
  Tensor aux_loss;  // 0-dim, or undefined when the layer has none
};

class FeedForward : public Module {
 public:
  using Module::Module;
  // x: [B, L, D] inside a transformer (any [..., D] for dense layers). ctx carries the
  // padding mask and the dropout stream.
  virtual FeedForwardOutput forward(const Tensor& x, const ForwardContext& ctx) = 0;
};

}  // namespace chorus::nn
