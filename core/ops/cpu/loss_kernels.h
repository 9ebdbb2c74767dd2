// CPU kernels behind core/ops/loss.h. logits (and their gradient) are contiguous [n, c] in the
// compute dtype (f32/f64) or bf16 (computed in f32 a row at a time); targets are contiguous
// i64 [n], each in [0, c) or equal to ignore_index (the front-end checks); loss, lse and the
// incoming gradient are in the compute dtype.
#pragma once

#include "core/tensor/tensor.h"

namespace chorus::cpu {

// Fused cross-entropy: per row one max pass (which also sums the logits when smoothing) and
// one exp pass give lse = log Σ exp(x) and
//   loss = lse − (1−ε)·x[t] − ε·mean(x)
// (PyTorch's label smoothing). Ignored rows get loss 0 (their lse is not used).
void cross_entropy_forward(const Tensor& loss, const Tensor& lse, const Tensor& logits,
                           const Tensor& targets, int64_t ignore_index, double smoothing);

// gx[i] = s_i·(softmax(x_i) − (1−ε)·onehot(t_i) − ε/c) with s_i = grad[i]·factor when grad
// has n elements, grad[0]·factor when it has one; rows with t_i == ignore_index get zeros.
void cross_entropy_backward(const Tensor& gx, const Tensor& grad, double factor,
                            const Tensor& logits, const Tensor& targets, const Tensor& lse,
                            int64_t ignore_index, double smoothing);

}  // namespace chorus::cpu
