// CPU kernels behind core/ops/scan.h.
#pragma once

#include "core/tensor/tensor.h"

namespace chorus::cpu {

// x and out contiguous, viewed as [outer, n, inner]: out[o, j, i] = Σ x[o, j', i] over
// j' <= j (reverse: j' >= j). f32 and f64 accumulate in double, i64 in i64.
void cumsum_kernel(const Tensor& out, const Tensor& x, int64_t outer, int64_t n, int64_t inner,
                   bool reverse);

}  // namespace chorus::cpu
