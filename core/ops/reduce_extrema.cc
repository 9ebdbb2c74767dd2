// Front-ends of max/min (values and indices over one dim), amax/amin (values over dims) and
// argmax/argmin.
#include "core/autograd/node.h"
#include "core/ops/cpu/reduce_kernels.h"
#include "core/ops/elementwise.h"
#include "core/ops/kernel_dispatch.h"
#include "core/ops/operands.h"
#include "core/ops/reduce.h"
#include "core/ops/reduce_plan.h"

namespace chorus {
namespace {

using autograd::Grads;

void check_input(const char* op, const Tensor& x, const ops_internal::ReducePlan& plan) {
  ops_internal::require_same_device(op, {&x});
  CHORUS_CHECK(x.dtype() != DType::kBool, op, ": not defined for bool tensors");
  CHORUS_CHECK(plan.inner > 0 || plan.outer == 0, op, ": cannot reduce ", shape_str(x.shape()),
               " over an empty dim (no identity)");
}

// The one reduced dim of max/min/argmax/argmin (a 0-dim tensor accepts dim 0 or -1).
int64_t one_dim(int64_t dim, const Tensor& x) {
  return wrap_dim(dim, std::max<int64_t>(x.dim(), 1));
}

struct Extremes {
  Tensor values;   // compute dtype, plan.out_shape (undefined unless asked)
  Tensor indices;  // i64, plan.out_shape (undefined unless asked)
};

Extremes run_extremes(const Tensor& x, const ops_internal::ReducePlan& plan, bool is_max,
                      bool want_values, bool want_indices) {
  const DType compute = ops_internal::kernel_dtype(x.dtype());
  Tensor rows = ops_internal::rows_for_reduction(x, plan, compute);
  Extremes e;
  if (want_values) e.values = Tensor::empty(plan.out_shape, compute, x.device());
  if (want_indices) e.indices = Tensor::empty(plan.out_shape, DType::kI64, x.device());
  CHORUS_KERNEL(cpu::extreme_rows)(e.values, e.indices, rows, is_max);
  return e;
}

ValuesIndices max_min(const char* op, const Tensor& x, int64_t dim, bool keepdim, bool is_max) {
  const int64_t d = one_dim(dim, x);
  const auto plan = ops_internal::plan_reduction(x.shape(), {d}, keepdim);
  check_input(op, x, plan);
  Extremes e = run_extremes(x, plan, is_max, true, true);
  Tensor values = ops_internal::cast_raw(e.values, x.dtype());
  // The gradient goes to the selected element only (the first occurrence on ties).
  autograd::record(
      op, {x}, {values},
      [idx = e.indices, kd = plan.keepdim_shape, shape = x.shape(), d](const Grads& g) {
        const DType compute = ops_internal::kernel_dtype(g[0].dtype());
        int64_t pre = 1, post = 1;
        for (int64_t i = 0; i < static_cast<int64_t>(shape.size()); ++i) {
          if (i < d) pre *= shape[i];
          if (i > d) post *= shape[i];
        }
        const int64_t n = shape.empty() ? 1 : shape[d];
        Tensor gx = Tensor::zeros(shape, compute, g[0].device());
        CHORUS_KERNEL(cpu::scatter_along_dim)
        (gx, ops_internal::contiguous_raw(g[0], compute), idx, pre, n, post);
        return Grads{gx};
      });
  return {values, e.indices};
}

Tensor amax_amin(const char* op, const Tensor& x, const std::vector<int64_t>& dims, bool keepdim,
                 bool is_max) {
  const auto plan = ops_internal::plan_reduction(x.shape(), dims, keepdim);
  check_input(op, x, plan);
  Tensor out = ops_internal::cast_raw(run_extremes(x, plan, is_max, true, false).values, x.dtype());
  // Ties share the gradient evenly (PyTorch's amax/amin rule).
  autograd::record(
      op, {x}, {out},
      [dx = x.detach(), dout = out.detach(), dims, kd = plan.keepdim_shape](const Grads& g) {
        Tensor hit = eq(dx, dout.reshape(kd));
        Tensor count = sum(hit.to(g[0].dtype()), dims, /*keepdim=*/true);
        Tensor share = div(g[0].reshape(kd), count);
        return Grads{where(hit, share, Tensor::zeros({}, share.dtype(), share.device()))};
      });
  return out;
}

Tensor arg_extreme(const char* op, const Tensor& x, int64_t dim, bool keepdim, bool is_max) {
  const auto plan = ops_internal::plan_reduction(x.shape(), {one_dim(dim, x)}, keepdim);
  check_input(op, x, plan);
  return run_extremes(x, plan, is_max, false, true).indices;
}

}  // namespace

ValuesIndices max(const Tensor& x, int64_t dim, bool keepdim) {
  return max_min("max", x, dim, keepdim, true);
}
ValuesIndices min(const Tensor& x, int64_t dim, bool keepdim) {
  return max_min("min", x, dim, keepdim, false);
}
Tensor amax(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return amax_amin("amax", x, dims, keepdim, true);
}
Tensor amin(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return amax_amin("amin", x, dims, keepdim, false);
}
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_extreme("argmax", x, dim, keepdim, true);
}
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_extreme("argmin", x, dim, keepdim, false);
}

}  // namespace chorus
