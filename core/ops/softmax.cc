#include "core/ops/softmax.h"

#include <algorithm>

#include "core/autograd/node.h"
#include "core/ops/cpu/softmax_kernels.h"
#include "core/ops/kernel_dispatch.h"
#include "core/ops/operands.h"

namespace chorus {
namespace {

using autograd::Grads;

Tensor softmax_impl(const char* name, const Tensor& x, int64_t dim, bool log) {
  ops_internal::require_same_device(name, {&x});
  CHORUS_CHECK(is_floating(x.dtype()), name, ": needs a floating tensor, got ",
               dtype_name(x.dtype()), " ", shape_str(x.shape()));
  const int64_t nd = x.dim();
  const int64_t d = wrap_dim(dim, std::max<int64_t>(nd, 1));
  // The tensor as [outer, n, inner] around `dim` (a 0-dim tensor is one row of one element).
  int64_t outer = 1, n = 1, inner = 1;
  for (int64_t i = 0; i < nd; ++i) {
    if (i < d) outer *= x.shape()[i];
    if (i == d) n = x.shape()[i];
    if (i > d) inner *= x.shape()[i];
  }
  const DType compute = ops_internal::kernel_dtype(x.dtype());
  // bf16 rows are widened to f32 inside the kernel, a row at a time: no f32 copy of x.
  auto io_dtype = [compute, inner](DType d) {
    return d == DType::kBF16 && inner == 1 ? d : compute;
  };
  const DType io = io_dtype(x.dtype());
  Tensor y = Tensor::empty(x.shape(), io, x.device());
  CHORUS_KERNEL(cpu::softmax_forward)(y, ops_internal::contiguous_raw(x, io), outer, n, inner, log);
  Tensor out = ops_internal::cast_raw(y, x.dtype());
  // The output (in its own dtype, like PyTorch) is all backward needs.
  autograd::record(
      name, {x}, {out},
      [saved = out.detach(), io = io_dtype(out.dtype()), outer, n, inner, log](const Grads& g) {
        Tensor gx = Tensor::empty(saved.shape(), io, saved.device());
        CHORUS_KERNEL(cpu::softmax_backward)
        (gx, ops_internal::contiguous_raw(g[0], io), ops_internal::contiguous_raw(saved, io), outer,
         n, inner, log);
        return Grads{gx};
      });
  return out;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_impl("softmax", x, dim, false); }

Tensor log_softmax(const Tensor& x, int64_t dim) {
  return softmax_impl("log_softmax", x, dim, true);
}

}  // namespace chorus
