// Front-end of scaled_dot_product_attention: validation, operand layout, autograd.
#include "core/ops/attention.h"

#include <cmath>

#include "core/autograd/node.h"
#include "core/ops/cpu/attention_kernels.h"
#include "core/ops/cpu/gemm_kernels.h"
#include "core/ops/kernel_dispatch.h"
#include "core/ops/operands.h"

namespace chorus {

using autograd::Grads;

namespace {

// `t` in `dtype`, copied only when its rows are not dense (the kernels read rows in place).
Tensor attention_operand(const Tensor& t, DType dtype) {
  Tensor c = ops_internal::cast_raw(t, dtype);
  const auto layout = cpu::blas_layout(c.size(-2), c.size(-1), c.stride(-2), c.stride(-1));
  if (layout && !layout->trans) return c;
  return ops_internal::contiguous_raw(c, dtype);
}

void check_inputs(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask) {
  ops_internal::require_same_device("scaled_dot_product_attention", {&q, &k, &v, &mask});
  CHORUS_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4,
               "scaled_dot_product_attention: q, k, v must be [B, H, L, D], got ",
               shape_str(q.shape()), ", ", shape_str(k.shape()), ", ", shape_str(v.shape()));
  CHORUS_CHECK(q.size(0) == k.size(0) && q.size(0) == v.size(0) && q.size(1) == k.size(1) &&
                   q.size(1) == v.size(1) && q.size(3) == k.size(3) && k.size(2) == v.size(2),
               "scaled_dot_product_attention: shapes do not fit: q ", shape_str(q.shape()), ", k ",
               shape_str(k.shape()), ", v ", shape_str(v.shape()),
               " (need equal B and H, q and k sharing D, k and v sharing Lk)");
  CHORUS_CHECK(is_floating(q.dtype()) && q.dtype() == k.dtype() && q.dtype() == v.dtype(),
               "scaled_dot_product_attention: q, k, v must share one floating dtype, got ",
               dtype_name(q.dtype()), ", ", dtype_name(k.dtype()), ", ", dtype_name(v.dtype()));
  if (mask.defined()) {
    CHORUS_CHECK(mask.dtype() == DType::kBool && mask.dim() == 2 && mask.size(0) == q.size(0) &&
                     mask.size(1) == k.size(2),
                 "scaled_dot_product_attention: key_padding_mask must be bool [B, Lk] = [",
                 q.size(0), ", ", k.size(2), "], got ", mask.ToString());
  }
}

// The key-padding mask travels as a raw pointer in AttentionParams: it must point to memory
// the kernel that runs can read. A device mask is copied to the host when the kernel for its
// device is the CPU one (through the host fallback, which mirrors only Tensor arguments).
template <auto Kernel>
Tensor mask_for(const Tensor& mask) {
  if (!mask.defined() || mask.device().is_cpu()) return mask;
  if (ops_internal::KernelSlot<Kernel>::cuda != nullptr) return mask;
  return ops_internal::host_raw(mask);
}

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const AttentionOptions& options) {
  const Tensor& mask_in = options.key_padding_mask;
  check_inputs(q, k, v, mask_in);
  const DType compute = ops_internal::kernel_dtype(q.dtype());
  const Tensor mask =
      mask_in.defined() ? ops_internal::contiguous_raw(mask_in, DType::kBool) : Tensor();
  cpu::AttentionParams params;
  params.scale = options.scale.value_or(1.0 / std::sqrt(static_cast<double>(q.size(3))));
  params.causal = options.causal;
  const Tensor fwd_mask = mask_for<&cpu::attention_forward>(mask);
  params.key_padding =
      fwd_mask.defined() ? static_cast<const uint8_t*>(fwd_mask.raw_data()) : nullptr;

  const Tensor qc = attention_operand(q, compute), kc = attention_operand(k, compute),
               vc = attention_operand(v, compute);
  Tensor out = Tensor::empty({q.size(0), q.size(1), q.size(2), v.size(3)}, compute, q.device());
  Tensor lse = Tensor::empty({q.size(0), q.size(1), q.size(2)}, compute, q.device());
  CHORUS_KERNEL(cpu::attention_forward)(out, lse, qc, kc, vc, params);
  Tensor result = ops_internal::cast_raw(out, q.dtype());

  autograd::record(
      "scaled_dot_product_attention", {q, k, v}, {result},
      [dq = q.detach(), dk = k.detach(), dv = v.detach(), dout = result.detach(), lse, mask,
       scale = params.scale, causal = params.causal](const Grads& g) {
        const DType compute = lse.dtype();
        cpu::AttentionParams p;
        p.scale = scale;
        p.causal = causal;
        const Tensor bwd_mask = mask_for<&cpu::attention_backward>(mask);
        p.key_padding =
            bwd_mask.defined() ? static_cast<const uint8_t*>(bwd_mask.raw_data()) : nullptr;
        Tensor gq = Tensor::empty(dq.shape(), compute, dq.device()),
               gk = Tensor::empty(dk.shape(), compute, dq.device()),
               gv = Tensor::empty(dv.shape(), compute, dq.device());
        CHORUS_KERNEL(cpu::attention_backward)
        (gq, gk, gv, attention_operand(dq, compute), attention_operand(dk, compute),
         attention_operand(dv, compute), attention_operand(dout, compute),
         attention_operand(g[0], compute), lse, p);
        return Grads{ops_internal::cast_raw(gq, dq.dtype()), ops_internal::cast_raw(gk, dk.dtype()),
                     ops_internal::cast_raw(gv, dv.dtype())};
      });
  return result;
}

}  // namespace chorus
