// Embedding lookup.
#pragma once

#include <optional>

#include "core/tensor/tensor.h"

namespace chorus {

// Rows of weight [V, D] picked by integer (i64/i32) indices of any shape: the result has
// shape indices.shape() + [D] and weight's dtype. Differentiable in weight: the gradient is a
// dense [V, D] tensor where each row sums the output gradients of every position that looked
// it up (repeated indices accumulate). Rows looked up through padding_idx (negative values
// count from V, as in PyTorch) receive no gradient. An index outside [0, V) throws
// chorus::Error.
Tensor embedding(const Tensor& weight, const Tensor& indices,
                 std::optional<int64_t> padding_idx = std::nullopt);

}  // namespace chorus
