// CPU reduction kernels. Inputs arrive as contiguous [outer, inner] matrices in the compute
// dtype (f32/f64); each row reduces to one output element.
#pragma once

#include "core/tensor/tensor.h"

namespace chorus::cpu {

// out[r] = Σ_j rows[r, j], accumulated in double.
void sum_rows(const Tensor& out, const Tensor& rows);

// Per row, the maximum (is_max) or minimum, and the index of its first occurrence. A NaN
// counts as the extreme (the first NaN wins), as in PyTorch. values (compute dtype) or
// indices (i64) may be undefined when not wanted. Rows must not be empty.
void extreme_rows(const Tensor& values, const Tensor& indices, const Tensor& rows, bool is_max);

// out[r] = Σ_j (rows[r, j] - mean_r)² / (inner - correction): two passes, so no cancellation.
// inner - correction <= 0 divides by zero (inf or NaN), like PyTorch.
void var_rows(const Tensor& out, const Tensor& rows, int64_t correction);

// out[r] = log Σ_j exp(rows[r, j]), computed as m + log Σ exp(x - m) with m the row maximum
// (m itself when it is ±inf; -inf for empty rows).
void logsumexp_rows(const Tensor& out, const Tensor& rows);

// Per-row vector norm: p = inf → max |x|, -inf → min |x|, 0 → count of non-zeros,
// otherwise (Σ |x|^p)^(1/p).
void norm_rows(const Tensor& out, const Tensor& rows, double p);

// Backward of max/min over one dim: gx is a zero-filled contiguous [pre, n, post] tensor and
// g, indices (i64) are contiguous [pre, post]; sets gx[a, indices[a, b], b] = g[a, b].
void scatter_along_dim(const Tensor& gx, const Tensor& g, const Tensor& indices, int64_t pre,
                       int64_t n, int64_t post);

}  // namespace chorus::cpu
