#include "core/ops/dropout.h"

#include "core/autograd/node.h"
#include "core/ops/cpu/dropout_kernels.h"
#include "core/ops/kernel_dispatch.h"
#include "core/ops/operands.h"

namespace chorus {

using autograd::Grads;

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  ops_internal::require_same_device("dropout", {&x});
  CHORUS_CHECK(p >= 0.0 && p <= 1.0, "dropout: probability ", p, " is outside [0, 1]");
  CHORUS_CHECK(is_floating(x.dtype()), "dropout: needs a floating tensor, got ",
               dtype_name(x.dtype()));
  if (!training || p == 0.0) return x;
  const uint64_t offset = gen.reserve(static_cast<uint64_t>(x.numel()));
  const double scale = p == 1.0 ? 0.0 : 1.0 / (1.0 - p);
  const DType compute = ops_internal::kernel_dtype(x.dtype());
  Tensor y = Tensor::empty(x.shape(), compute, x.device());
  Tensor mask = Tensor::empty(x.shape(), DType::kBool, x.device());
  CHORUS_KERNEL(cpu::dropout_forward)
  (y, mask, ops_internal::contiguous_raw(x, compute), p, scale, gen.seed(), offset);
  Tensor out = ops_internal::cast_raw(y, x.dtype());
  autograd::record("dropout", {x}, {out}, [mask, scale, compute](const Grads& g) {
    Tensor gx = Tensor::empty(mask.shape(), compute, mask.device());
    CHORUS_KERNEL(cpu::dropout_backward)
    (gx, ops_internal::contiguous_raw(g[0], compute), mask, scale);
    return Grads{gx};
  });
  return out;
}

}  // namespace chorus
