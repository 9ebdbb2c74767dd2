// CPU kernels behind core/ops/softmax.h. Every tensor is contiguous in the compute dtype
// (f32/f64) and viewed as [outer, n, inner], normalised over n. inner == 1 (the last dim)
// takes the row path, which also accepts bf16 tensors throughout (computed in f32 a row at a
// time); otherwise blocks of columns walk down the rows.
#pragma once

#include "core/tensor/tensor.h"

namespace chorus::cpu {

// y = softmax(x) or log_softmax(x) over n; stable (the row maximum is subtracted).
void softmax_forward(const Tensor& y, const Tensor& x, int64_t outer, int64_t n, int64_t inner,
                     bool log);

// From the forward output y and its gradient g:
//   softmax:     gx = y ⊙ (g − Σ g⊙y)
//   log_softmax: gx = g − exp(y) ⊙ Σ g
void softmax_backward(const Tensor& gx, const Tensor& g, const Tensor& y, int64_t outer, int64_t n,
                      int64_t inner, bool log);

}  // namespace chorus::cpu
