// Indexing ops with PyTorch semantics: gather / scatter_add along a dim with an index tensor
// of the same rank, index_select / index_add with a 1-D index, and one_hot.
//
// Indices are i64 (index_select/index_add also take i32) and must lie in [0, size) of the
// indexed dim: an index out of range throws chorus::Error naming the op, the bad value and
// its position. Ops that only move elements (gather, index_select) work for every dtype;
// scatter_add / index_add work for floating and integer dtypes (not bool). Gradients flow to
// the floating data operands, never to the indices.
#pragma once

#include "core/tensor/tensor.h"

namespace chorus {

// out[i][j][k] = x[index[i][j][k]][j][k] (dim = 0; likewise for other dims). out has index's
// shape; index.size(d) <= x.size(d) for every d != dim. Gradient: scatter_add into zeros.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);

// out = x, then out[index[i][j][k]][j][k] += src[i][j][k] (dim = 0) for every position of
// index; index.size(d) <= src.size(d) for all d and <= x.size(d) for d != dim; x and src share
// a dtype. Gradients: x gets the output gradient; src gets gather(grad, dim, index), zero where
// src extends beyond index.
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);

// The slices of x at positions `index` (1-D, or 0-dim for a single slice) along dim: out has
// x's shape with size(dim) = index.numel(). Gradient: index_add into zeros.
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);

// out = x, then out.select(dim, index[j]) += src.select(dim, j); src has x's shape with
// size(dim) = index.numel(). Repeated indices accumulate.
Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);

// i64 tensor of shape indices.shape + [num_classes] with a 1 at each index. indices must be
// an integer dtype with values in [0, num_classes); num_classes = -1 means max(indices) + 1.
Tensor one_hot(const Tensor& indices, int64_t num_classes = -1);

}  // namespace chorus
