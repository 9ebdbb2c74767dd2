// Reductions over any set of dims, with keepdim. An empty `dims` list means all dims.
// Floating inputs reduce in f32 (f64 for f64) with a pairwise/blocked order for accuracy.
#pragma once

#include <vector>

#include "core/tensor/tensor.h"

namespace chorus {

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// Variance with `correction` (1 = unbiased, like torch.var's default; 0 = population).
Tensor var(const Tensor& x, const std::vector<int64_t>& dims = {}, int64_t correction = 1,
           bool keepdim = false);
// Max/min over one dim, returning values and i64 indices (first occurrence on ties).
struct ValuesIndices {
  Tensor values;
  Tensor indices;
};
ValuesIndices max(const Tensor& x, int64_t dim, bool keepdim = false);
ValuesIndices min(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor amax(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor logsumexp(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
// p-norm (p = 2 by default; p = inf allowed) over dims.
Tensor norm(const Tensor& x, double p = 2.0, const std::vector<int64_t>& dims = {},
            bool keepdim = false);

// Sums `grad` down to `shape` (undoing broadcasting): used by backward functions.
Tensor sum_to(const Tensor& grad, const Shape& shape);

}  // namespace chorus
