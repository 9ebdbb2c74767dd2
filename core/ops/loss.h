// Loss functions.
#pragma once

#include <cstdint>

#include "core/tensor/tensor.h"

namespace chorus {

enum class Reduction { kNone, kMean, kSum };

struct CrossEntropyOptions {
  int64_t ignore_index = -100;   // targets equal to this contribute no loss and no gradient
  double label_smoothing = 0.0;  // ε in [0, 1]
  Reduction reduction = Reduction::kMean;
};

// Cross-entropy between logits [..., C] (classes last, e.g. [B, T, V] for a language model;
// note PyTorch puts classes at dim 1 for more than 2 dims) and integer (i64/i32) class targets
// of shape [...]. Matches torch.nn.functional.cross_entropy for [N, C] inputs: per row
//   loss = (1−ε)·(lse − x[t]) + ε·(lse − mean(x)),  lse = log Σ exp(x),
// rows whose target is ignore_index give 0 and are left out of the mean (all rows ignored:
// NaN, as in PyTorch). kNone returns the per-row losses with the targets' shape, the others a
// 0-dim tensor; the result has the logits' dtype. One fused kernel computes the forward and
// one the gradient (softmax minus the smoothed one-hot, scaled), differentiable in logits.
// A target outside [0, C) that is not ignore_index throws chorus::Error on the host; on a device
// the targets are not read back (a wait for the device on every call) and such a row gives a
// NaN loss instead.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets,
                     const CrossEntropyOptions& options = {});

}  // namespace chorus
