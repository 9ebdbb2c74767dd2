// Front-end of grouped_matmul: validation, dtype handling and the backward pass, which calls
// the two dedicated backward kernels (one GEMM per group each) rather than composing ops.
#include "core/ops/grouped_matmul.h"

#include "core/autograd/node.h"
#include "core/ops/cpu/grouped_matmul_kernels.h"
#include "core/ops/kernel_dispatch.h"
#include "core/ops/operands.h"

namespace chorus {

using autograd::Grads;
using ops_internal::cast_raw;
using ops_internal::contiguous_raw;
using ops_internal::kernel_dtype;

namespace {

// Offsets as a contiguous host i64 tensor, checked against the row count: the kernels index
// memory with them unchecked.
Tensor checked_offsets(const Tensor& offsets, int64_t groups, int64_t rows) {
  CHORUS_CHECK(offsets.defined() && offsets.dtype() == DType::kI64 && offsets.dim() == 1 &&
                   offsets.size(0) == groups + 1,
               "grouped_matmul: offsets must be i64 [", groups + 1, "] for ", groups,
               " groups, got ", offsets.defined() ? offsets.ToString() : "undefined");
  // Kept on the host: the kernels loop over groups there.
  Tensor o = ops_internal::host_raw(contiguous_raw(offsets, DType::kI64));
  const int64_t* p = o.data<int64_t>();
  CHORUS_CHECK(p[0] == 0 && p[groups] == rows,
               "grouped_matmul: offsets must start at 0 and end at ", "the row count ", rows,
               ", got ", p[0], " and ", p[groups]);
  for (int64_t e = 0; e < groups; ++e) {
    CHORUS_CHECK(p[e] <= p[e + 1], "grouped_matmul: offsets must be non-decreasing, but offsets[",
                 e, "] = ", p[e], " > offsets[", e + 1, "] = ", p[e + 1]);
  }
  return o;
}

}  // namespace

Tensor grouped_matmul(const Tensor& x, const Tensor& w, const Tensor& offsets) {
  CHORUS_CHECK(x.defined() && w.defined(), "grouped_matmul: undefined operand");
  ops_internal::require_same_device("grouped_matmul", {&x, &w});
  CHORUS_CHECK(is_floating(x.dtype()) && x.dtype() == w.dtype(),
               "grouped_matmul: x and w must share one floating dtype, got ", dtype_name(x.dtype()),
               " and ", dtype_name(w.dtype()));
  CHORUS_CHECK(x.dim() == 2 && w.dim() == 3 && x.size(1) == w.size(1),
               "grouped_matmul: expects x [T, d] and w [E, d, f], got ", shape_str(x.shape()),
               " and ", shape_str(w.shape()));
  const Tensor offs = checked_offsets(offsets, w.size(0), x.size(0));
  const DType compute = kernel_dtype(x.dtype());
  // Detached: the backward closure keeps them, and must not keep autograd state alive.
  const Tensor cx = contiguous_raw(x.detach(), compute), cw = contiguous_raw(w.detach(), compute);
  Tensor out = Tensor::empty({x.size(0), w.size(2)}, compute, x.device());
  CHORUS_KERNEL(cpu::grouped_matmul_forward)(out, cx, cw, offs.data<int64_t>());
  out = cast_raw(out, x.dtype());
  autograd::record(
      "grouped_matmul", {x, w}, {out},
      [cx, cw, offs, dtype = x.dtype(), need_x = x.requires_grad(),
       need_w = w.requires_grad()](const Grads& g) {
        const Tensor cg = contiguous_raw(g[0], cx.dtype());
        Grads grads(2);
        if (need_x) {
          Tensor dx = Tensor::empty(cx.shape(), cx.dtype(), cx.device());
          CHORUS_KERNEL(cpu::grouped_matmul_backward_input)(dx, cg, cw, offs.data<int64_t>());
          grads[0] = cast_raw(dx, dtype);
        }
        if (need_w) {
          Tensor dw = Tensor::empty(cw.shape(), cw.dtype(), cw.device());
          CHORUS_KERNEL(cpu::grouped_matmul_backward_weight)(dw, cx, cg, offs.data<int64_t>());
          grads[1] = cast_raw(dw, dtype);
        }
        return grads;
      });
  return out;
}

}  // namespace chorus
