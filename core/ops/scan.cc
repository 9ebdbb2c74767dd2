// Front-end of cumsum. The forward and the backward are the same scan in opposite directions,
// so one recorded function serves both (and the backward is itself differentiable).
#include "core/ops/scan.h"

#include "core/autograd/node.h"
#include "core/ops/cpu/scan_kernels.h"
#include "core/ops/kernel_dispatch.h"
#include "core/ops/operands.h"

namespace chorus {

using autograd::Grads;

namespace {

Tensor cumsum_directed(const Tensor& x, int64_t dim, bool reverse) {
  ops_internal::require_same_device("cumsum", {&x});
  const int64_t d = x.dim() == 0 ? 0 : wrap_dim(dim, x.dim());
  const DType compute =
      is_floating(x.dtype()) ? ops_internal::kernel_dtype(x.dtype()) : DType::kI64;
  int64_t outer = 1, n = 1, inner = 1;
  for (int64_t k = 0; k < x.dim(); ++k) {
    (k < d ? outer : k == d ? n : inner) *= x.shape()[k];
  }
  Tensor out = Tensor::empty(x.shape(), compute, x.device());
  CHORUS_KERNEL(cpu::cumsum_kernel)
  (out, ops_internal::contiguous_raw(x, compute), outer, n, inner, reverse);
  const DType result = is_floating(x.dtype()) ? x.dtype() : DType::kI64;
  if (result != compute) out = ops_internal::cast_raw(out, result);
  autograd::record(reverse ? "cumsum_reverse" : "cumsum", {x}, {out}, [d, reverse](const Grads& g) {
    return Grads{cumsum_directed(g[0], d, !reverse)};
  });
  return out;
}

}  // namespace

Tensor cumsum(const Tensor& x, int64_t dim) { return cumsum_directed(x, dim, false); }

}  // namespace chorus
