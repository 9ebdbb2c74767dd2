// Scans (prefix operations) along a dim.
#pragma once

#include "core/tensor/tensor.h"

namespace chorus {

// Running sum along dim: out[..., j, ...] = Σ_{j' <= j} x[..., j', ...]. Floating inputs keep
// their dtype (f32 accumulates in double; bf16/f16 are computed in f32), integer and bool
// inputs give i64, as in PyTorch. Gradient: the reverse running sum of the output gradient.
Tensor cumsum(const Tensor& x, int64_t dim);

}  // namespace chorus
