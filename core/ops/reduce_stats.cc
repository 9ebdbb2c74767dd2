// Front-ends of var, logsumexp and norm.
#include <cmath>

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

// Runs a row kernel over the reduction `plan` of a floating tensor; returns the result in the
// input's dtype.
template <class Kernel>
Tensor reduce_rows(const char* op, const Tensor& x, const ops_internal::ReducePlan& plan,
                   Kernel&& kernel) {
  ops_internal::require_same_device(op, {&x});
  CHORUS_CHECK(is_floating(x.dtype()), op, ": needs a floating tensor, got ", dtype_name(x.dtype()),
               " ", shape_str(x.shape()));
  const DType compute = ops_internal::kernel_dtype(x.dtype());
  Tensor rows = ops_internal::rows_for_reduction(x, plan, compute);
  Tensor out = Tensor::empty(plan.out_shape, compute, x.device());
  kernel(out, rows);
  return ops_internal::cast_raw(out, x.dtype());
}

Tensor zero_like(const Tensor& t) { return Tensor::zeros({}, t.dtype(), t.device()); }

}  // namespace

Tensor var(const Tensor& x, const std::vector<int64_t>& dims, int64_t correction, bool keepdim) {
  const auto plan = ops_internal::plan_reduction(x.shape(), dims, keepdim);
  Tensor out = reduce_rows("var", x, plan, [&](const Tensor& o, const Tensor& rows) {
    CHORUS_KERNEL(cpu::var_rows)(o, rows, correction);
  });
  // d var / dx = 2 (x - mean) / (N - correction).
  autograd::record("var", {x}, {out},
                   [dx = x.detach(), dims, kd = plan.keepdim_shape,
                    divisor = static_cast<double>(plan.inner - correction)](const Grads& g) {
                     Tensor xc = dx.to(ops_internal::kernel_dtype(dx.dtype()));
                     Tensor centred = sub(xc, mean(xc, dims, /*keepdim=*/true));
                     return Grads{mul(centred, mul(g[0].reshape(kd), 2.0 / divisor))};
                   });
  return out;
}

Tensor logsumexp(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  const auto plan = ops_internal::plan_reduction(x.shape(), dims, keepdim);
  Tensor out = reduce_rows("logsumexp", x, plan, [](const Tensor& o, const Tensor& rows) {
    CHORUS_KERNEL(cpu::logsumexp_rows)(o, rows);
  });
  // d lse / dx = softmax(x) = exp(x - lse).
  autograd::record("logsumexp", {x}, {out},
                   [dx = x.detach(), dout = out.detach(), kd = plan.keepdim_shape](const Grads& g) {
                     const DType compute = ops_internal::kernel_dtype(dx.dtype());
                     Tensor p = exp(sub(dx.to(compute), dout.to(compute).reshape(kd)));
                     return Grads{mul(p, g[0].reshape(kd))};
                   });
  return out;
}

Tensor norm(const Tensor& x, double p, const std::vector<int64_t>& dims, bool keepdim) {
  CHORUS_CHECK(!std::isnan(p), "norm: p is NaN");
  const auto plan = ops_internal::plan_reduction(x.shape(), dims, keepdim);
  Tensor out = reduce_rows("norm", x, plan, [p](const Tensor& o, const Tensor& rows) {
    CHORUS_KERNEL(cpu::norm_rows)(o, rows, p);
  });
  // Gradients as PyTorch's vector_norm: zero where the norm is zero (for p > 0), ties of the
  // ±inf norms share evenly, and p = 0 has none.
  autograd::record(
      "norm", {x}, {out},
      [dx = x.detach(), dout = out.detach(), p, dims, kd = plan.keepdim_shape](const Grads& g) {
        const DType compute = ops_internal::kernel_dtype(dx.dtype());
        Tensor xc = dx.to(compute);
        Tensor n = dout.to(compute).reshape(kd);
        Tensor gk = g[0].to(compute).reshape(kd);
        if (p == 0.0) return Grads{Tensor::zeros(dx.shape(), compute, dx.device())};
        if (p == 1.0) return Grads{mul(sign(xc), gk)};
        if (std::isinf(p)) {
          Tensor hit = eq(abs(xc), n);
          Tensor count = sum(hit.to(compute), dims, /*keepdim=*/true);
          return Grads{where(hit, mul(sign(xc), div(gk, count)), zero_like(xc))};
        }
        // g · sign(x)|x|^(p-1) / norm^(p-1); for p = 2 that is g · x / norm.
        Tensor scale = where(eq(n, 0.0), zero_like(n), div(gk, p == 2.0 ? n : pow(n, p - 1.0)));
        Tensor dir = p == 2.0 ? xc : mul(sign(xc), pow(abs(xc), p - 1.0));
        return Grads{mul(dir, scale)};
      });
  return out;
}

}  // namespace chorus
