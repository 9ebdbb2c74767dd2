// CPU kernels behind core/ops/index.h. Front-ends validate shapes and index ranges first;
// kernels trust them. Index tensors are i64.
#pragma once

#include "core/tensor/tensor.h"

namespace chorus::cpu {

// out[p] = x[p with coordinate `dim` replaced by index[p]] for every position p of index's
// shape (which out shares). Any strides; x may be larger than index in every dim. Moves
// elements only, so every dtype works (x and out share a dtype).
void gather_kernel(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index);

// out[p with coordinate `dim` replaced by index[p]] += src[p] for every position p of index's
// shape. out already holds the base values. f32, f64 or integer dtypes (out and src alike).
void scatter_add_kernel(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src);

// Viewing x as contiguous [outer, n, inner] and out as contiguous [outer, k, inner]:
// out[o, j, :] = x[o, index[j], :]. index is contiguous 1-D of length k. Every dtype.
void index_select_kernel(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index);

// With out contiguous [outer, n, inner] (holding the base values) and src contiguous
// [outer, k, inner]: out[o, index[j], :] += src[o, j, :]. f32, f64 or integer dtypes.
void index_add_kernel(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src);

}  // namespace chorus::cpu
