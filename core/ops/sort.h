// Sorting along a dim: sort, argsort, topk. Every dtype works (reduced-precision floats are
// ordered in f32; integers and bool natively). NaN counts as the largest value, as in PyTorch:
// last in ascending order, first in descending order and in topk(largest=true). Equal values
// keep their input order (lower index first), so all results are deterministic; `stable` is
// accepted for PyTorch compatibility and changes nothing. Indices are i64. The values are
// differentiable: their gradient scatters back to the input positions they came from.
#pragma once

#include "core/ops/reduce.h"  // ValuesIndices
#include "core/tensor/tensor.h"

namespace chorus {

ValuesIndices sort(const Tensor& x, int64_t dim = -1, bool descending = false, bool stable = false);

// The indices sort() would return.
Tensor argsort(const Tensor& x, int64_t dim = -1, bool descending = false, bool stable = false);

// The k largest (largest = false: smallest) elements along dim, k in [0, size(dim)]. sorted =
// true orders them by value (largest first when largest, else smallest first); sorted = false
// returns the same elements in the order they appear in x.
ValuesIndices topk(const Tensor& x, int64_t k, int64_t dim = -1, bool largest = true,
                   bool sorted = true);

}  // namespace chorus
