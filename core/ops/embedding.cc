#include "core/ops/embedding.h"

#include "core/autograd/node.h"
#include "core/ops/cpu/embedding_kernels.h"
#include "core/ops/kernel_dispatch.h"
#include "core/ops/operands.h"

namespace chorus {

using autograd::Grads;

Tensor embedding(const Tensor& weight, const Tensor& indices, std::optional<int64_t> padding_idx) {
  ops_internal::require_same_device("embedding", {&weight, &indices});
  CHORUS_CHECK(weight.dim() == 2, "embedding: weight must be [V, D], got ",
               shape_str(weight.shape()));
  CHORUS_CHECK(indices.dtype() == DType::kI64 || indices.dtype() == DType::kI32,
               "embedding: indices must be i64 or i32, got ", dtype_name(indices.dtype()));
  const int64_t v = weight.shape()[0], d = weight.shape()[1];
  int64_t pad = -1;
  if (padding_idx) {
    CHORUS_CHECK(*padding_idx >= -v && *padding_idx < v, "embedding: padding_idx ", *padding_idx,
                 " is outside [-", v, ", ", v, ")");
    pad = *padding_idx < 0 ? *padding_idx + v : *padding_idx;
  }
  Tensor idx = ops_internal::contiguous_raw(indices, DType::kI64);
  const int64_t n = idx.numel();
  const Tensor host_idx = ops_internal::host_raw(idx);
  const int64_t* pi = host_idx.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    CHORUS_CHECK(pi[i] >= 0 && pi[i] < v, "embedding: index ", pi[i], " at position ", i,
                 " is outside [0, ", v, ") for weight ", shape_str(weight.shape()));
  }
  Shape out_shape = indices.shape();
  out_shape.push_back(d);
  Tensor out = Tensor::empty(out_shape, weight.dtype(), weight.device());
  CHORUS_KERNEL(cpu::embedding_forward)
  (out, ops_internal::contiguous_raw(weight.detach(), weight.dtype()), idx);
  autograd::record(
      "embedding", {weight}, {out},
      [idx, pad, v, d, compute = ops_internal::kernel_dtype(weight.dtype())](const Grads& g) {
        Tensor gw = Tensor::empty({v, d}, compute, g[0].device());
        Tensor gc = ops_internal::contiguous_raw(g[0], compute);
        CHORUS_KERNEL(cpu::embedding_backward)(gw, gc, idx, pad);
        return Grads{gw};
      });
  return out;
}

}  // namespace chorus
