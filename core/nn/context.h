// ForwardContext: the per-call inputs that every layer of a transformer stack shares, passed
// down unchanged from the stack to its blocks, their attention and their feed-forward layer.
//
// Everything here describes the *batch*, not the weights: which keys are padding, where the
// sequence starts (for rotary positions), and the random stream for dropout. Keeping it in
// one struct means a new per-batch input (e.g. segment ids) is one new field, not a new
// argument on every forward() in the stack.
#pragma once

#include <cstdint>

#include "core/tensor/philox.h"
#include "core/tensor/tensor.h"

namespace chorus::nn {

struct ForwardContext {
  // Optional bool [B, L]: true marks a padding position. Attention ignores padded keys;
  // feed-forward layers may use it to leave padding out of statistics (MoE load balancing).
  Tensor key_padding_mask;
  // Positions for rotary embeddings: either i64 [L] / [B, L] in `positions`, or, when that is
  // undefined, offset, offset + 1, ... (offset > 0 continues a sequence).
  Tensor positions;
  int64_t position_offset = 0;
  // Dropout's random stream. May be null when no dropout is active (eval, or p = 0); a layer
  // that needs it and finds null throws. Two runs with generators of the same seed and offset
  // draw the same masks.
  Generator* gen = nullptr;
  // True while activation recomputation replays a forward during backward (recompute.h). The
  // replay must compute the same values, so layers must not update running state then
  // (e.g. MoE per-expert load counters): they would count the batch twice.
  bool recomputing = false;
};

}  // namespace chorus::nn
