// CPU kernels behind core/ops/embedding.h. indices are contiguous i64 [n], already checked to
// lie in [0, V).
#pragma once

#include "core/tensor/tensor.h"

namespace chorus::cpu {

// out[i, :] = weight[indices[i], :]; weight contiguous [V, D] and out contiguous [n, D] of the
// same dtype (any dtype: rows are copied as bytes).
void embedding_forward(const Tensor& out, const Tensor& weight, const Tensor& indices);

// gweight (contiguous [V, D], f32/f64) = Σ_i onehot(indices[i]) ⊗ g[i, :], skipping rows whose
// index equals padding_idx (pass -1 for none). Threads split the D columns, so repeated
// indices need no atomics and the result does not depend on the thread count.
void embedding_backward(const Tensor& gweight, const Tensor& g, const Tensor& indices,
                        int64_t padding_idx);

}  // namespace chorus::cpu
