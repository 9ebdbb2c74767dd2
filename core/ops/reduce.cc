// Front-ends of sum/mean (and sum_to). The other reductions live in reduce_extrema.cc and
// reduce_stats.cc.
#include "core/ops/reduce.h"

#include "core/autograd/node.h"
#include "core/ops/cpu/reduce_kernels.h"
#include "core/ops/elementwise.h"
#include "core/ops/kernel_dispatch.h"
#include "core/ops/operands.h"
#include "core/ops/reduce_plan.h"

namespace chorus {

using autograd::Grads;

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  ops_internal::require_same_device("sum", {&x});
  const auto plan = ops_internal::plan_reduction(x.shape(), dims, keepdim);
  const DType compute = ops_internal::kernel_dtype(x.dtype());
  Tensor rows = ops_internal::rows_for_reduction(x, plan, compute);
  Tensor out = Tensor::empty(plan.out_shape, compute, x.device());
  CHORUS_KERNEL(cpu::sum_rows)(out, rows);
  // Integer sums stay i64 (like PyTorch); floats keep their dtype.
  const DType result = is_floating(x.dtype()) ? x.dtype() : DType::kI64;
  if (result != compute) out = ops_internal::cast_raw(out, result);
  autograd::record("sum", {x}, {out}, [shape = x.shape(), kd = plan.keepdim_shape](const Grads& g) {
    return Grads{g[0].reshape(kd).expand(shape).contiguous()};
  });
  return out;
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  CHORUS_CHECK(is_floating(x.dtype()), "mean of a ", dtype_name(x.dtype()),
               " tensor: convert to a floating dtype first");
  const auto plan = ops_internal::plan_reduction(x.shape(), dims, keepdim);
  return div(sum(x, dims, keepdim), static_cast<double>(plan.inner));
}

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  const int64_t lead = grad.dim() - static_cast<int64_t>(shape.size());
  CHORUS_CHECK(lead >= 0, "sum_to: cannot reduce ", shape_str(grad.shape()), " to ",
               shape_str(shape));
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < grad.dim(); ++i) {
    if (i < lead || (shape[i - lead] == 1 && grad.shape()[i] != 1)) dims.push_back(i);
  }
  Tensor s = dims.empty() ? grad : sum(grad, dims, /*keepdim=*/true);
  return s.reshape(shape);
}

}  // namespace chorus
