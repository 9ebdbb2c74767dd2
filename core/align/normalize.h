// Small differentiable building blocks shared by the alignment objectives.
#pragma once

#include <cstdint>

#include "core/tensor/tensor.h"

namespace chorus::align {

// Rows of x [N, D] divided by their L2 norm (clamped below at eps, as F.normalize does, so a
// zero row stays zero instead of becoming NaN). Differentiable.
Tensor l2_normalize(const Tensor& x, double eps = 1e-12);

// A constant [n, n] tensor of `dtype` on `device` with `value` on the diagonal, 0 elsewhere. Added
// to a similarity matrix it removes self-pairs from a softmax: a large negative finite value is
// used instead of -inf so that no 0·inf NaN can arise inside the loss kernels.
Tensor diagonal_mask(int64_t n, double value, DType dtype, Device device);

// The value objectives add to masked-out logits (exp underflows to exactly 0 in f32 and f64).
inline constexpr double kMaskedLogit = -1e9;

}  // namespace chorus::align
