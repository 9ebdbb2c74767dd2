#include "core/ops/reduce_plan.h"

#include "core/ops/operands.h"

namespace chorus::ops_internal {

ReducePlan plan_reduction(const Shape& shape, const std::vector<int64_t>& dims, bool keepdim) {
  const int64_t nd = static_cast<int64_t>(shape.size());
  ReducePlan plan;
  plan.reduced.assign(shape.size(), dims.empty());
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, nd);
    if (nd == 0) continue;
    CHORUS_CHECK(!plan.reduced[w], "dim ", d, " given twice in a reduction");
    plan.reduced[w] = true;
  }
  for (int64_t i = 0; i < nd; ++i) {
    if (plan.reduced[i]) {
      plan.inner *= shape[i];
      plan.keepdim_shape.push_back(1);
      if (keepdim) plan.out_shape.push_back(1);
    } else {
      plan.outer *= shape[i];
      plan.keepdim_shape.push_back(shape[i]);
      plan.out_shape.push_back(shape[i]);
    }
  }
  return plan;
}

Tensor rows_for_reduction(const Tensor& x, const ReducePlan& plan, DType dtype) {
  Shape shape, strides;
  for (size_t i = 0; i < plan.reduced.size(); ++i) {
    if (!plan.reduced[i]) shape.push_back(x.shape()[i]), strides.push_back(x.strides()[i]);
  }
  for (size_t i = 0; i < plan.reduced.size(); ++i) {
    if (plan.reduced[i]) shape.push_back(x.shape()[i]), strides.push_back(x.strides()[i]);
  }
  Tensor permuted = x.as_strided(shape, strides, x.offset());
  return contiguous_raw(permuted, dtype).as_strided({plan.outer, plan.inner}, {plan.inner, 1}, 0);
}

}  // namespace chorus::ops_internal
