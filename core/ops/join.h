// Joining and splitting along a dim: concat, stack, split, chunk.
//
// concat/stack return a fresh tensor of the promoted dtype of their inputs (promote_types in
// elementwise.h); split/chunk return views sharing the input's storage. All are
// differentiable: the pieces of a split form one autograd node, so gradients reaching any
// subset of the pieces (several, one, or none for some) are assembled into one input gradient.
#pragma once

#include <vector>

#include "core/tensor/tensor.h"

namespace chorus {

// Joins tensors along an existing dim. All must have the same number of dims and equal sizes
// outside `dim`; as in PyTorch, 1-D tensors of size 0 are skipped whatever the others' rank.
Tensor concat(const std::vector<Tensor>& tensors, int64_t dim = 0);

// Joins equally-shaped tensors along a new dim inserted at `dim` (in [-(ndim+1), ndim]).
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);

// Views of consecutive pieces of `split_size` along dim (the last piece may be smaller). A dim
// of size 0 gives one empty piece.
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim = 0);

// Views of consecutive pieces with the given sizes along dim (they must add up to its size).
// Note: split(x, {n}) with a braced single size picks the overload above (split_size n).
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim = 0);

// PyTorch's chunk: pieces of ceil(size / chunks) along dim, so fewer than `chunks` pieces may
// come back (size 5 in 4 chunks gives 2, 2, 1). A dim of size 0 gives `chunks` empty pieces.
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);

}  // namespace chorus
