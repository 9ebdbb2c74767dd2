// Activation recomputation (gradient checkpointing, Chen et al. 2016): trade compute for
// memory by keeping only a segment's inputs during the forward pass and re-running the
// segment during backward.
//
// recompute(fn, inputs, params) runs fn(inputs, false) with grad recording off, so none of
// the segment's intermediate activations are kept, and records one autograd node from
// `inputs` and `params` to fn's outputs. When backward reaches the node, it re-runs
// fn(detached inputs, true) with recording on and back-propagates the incoming output
// gradients through that fresh graph (a nested backward). The nested backward accumulates
// parameter gradients straight into the parameters' .grad(), exactly where a plain backward
// would put them; the node passes only the input gradients on to the outer graph (and
// nothing for params, which are listed as node inputs only so that the node is recorded when
// just the parameters require grad, and so the outer graph orders it correctly).
//
// fn must compute the same values both times. Anything random inside it must replay the same
// stream: capture a copy of the Generator's state before the first call and hand the second
// call a fresh copy of it (TransformerBlock recompute does this). Running state (e.g. MoE load
// counters) must not be updated when `recomputing` is true.
//
// Outputs may include undefined tensors (e.g. an absent aux loss); they stay undefined.
#pragma once

#include <functional>
#include <vector>

#include "core/tensor/tensor.h"

namespace chorus::nn {

using RecomputeFn =
    std::function<std::vector<Tensor>(const std::vector<Tensor>& inputs, bool recomputing)>;

std::vector<Tensor> recompute(RecomputeFn fn, const std::vector<Tensor>& inputs,
                              const std::vector<Tensor>& params);

}  // namespace chorus::nn
