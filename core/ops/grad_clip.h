// Primitives of gradient-norm clipping (core/optim/clip.h), as ops so that the CUDA backend
// can replace them: a norm partial of one tensor accumulated in f64, and an in-place scale.
// Neither is recorded by autograd. Both read bf16/f16 directly (no f32 copy of the gradient).
#pragma once

#include "core/tensor/tensor.h"

namespace chorus {

// Σ|x_i|^p for finite p > 0, or max|x_i| for p = inf, accumulated in f64 in a fixed block
// order (the result does not depend on the thread count). NaN anywhere gives NaN. Any
// floating dtype; an empty tensor gives 0.
double abs_pow_sum(const Tensor& x, double p);

// acc <- acc + abs_pow_sum(x, p) (for p = inf: the max of the two, NaN winning), where `acc` is
// a one-element f64 tensor on x's device. Nothing is read back to the host, so a norm over many
// tensors on a GPU waits for the device once, when `acc` is read, not once per tensor.
void abs_pow_sum_accumulate(const Tensor& acc, const Tensor& x, double p);

// x <- x * factor in place, computed in f32 (f64 for f64) and rounded back to x's dtype.
void scale_(const Tensor& x, double factor);

}  // namespace chorus
