// Shared bookkeeping for reductions: which dims are reduced, the output shape, and a view of
// the input with the kept dims first and the reduced dims last, so a kernel sees a
// [outer, inner] matrix and reduces each row. Internal to core/ops.
#pragma once

#include <vector>

#include "core/tensor/tensor.h"

namespace chorus::ops_internal {

struct ReducePlan {
  std::vector<bool> reduced;  // per input dim
  Shape out_shape;            // with or without keepdim, as asked
  Shape keepdim_shape;        // reduced dims kept as 1 (for broadcasting back in backward)
  int64_t outer = 1;          // product of kept sizes
  int64_t inner = 1;          // product of reduced sizes
};

ReducePlan plan_reduction(const Shape& shape, const std::vector<int64_t>& dims, bool keepdim);

// `x` permuted so kept dims come first, made contiguous in `dtype`: a [outer, inner] buffer.
Tensor rows_for_reduction(const Tensor& x, const ReducePlan& plan, DType dtype);

}  // namespace chorus::ops_internal
