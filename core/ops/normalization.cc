#include "core/ops/normalization.h"

#include "core/autograd/node.h"
#include "core/ops/cpu/normalization_kernels.h"
#include "core/ops/kernel_dispatch.h"
#include "core/ops/operands.h"

namespace chorus {
namespace {

using autograd::Grads;
using ops_internal::contiguous_raw;

// Checks x, weight and bias for a normalisation over the trailing `shape` and returns the
// compute dtype: f64 when any of them is f64, else f32.
DType check_operands(const char* op, const Tensor& x, const Shape& shape, const Tensor& weight,
                     const Tensor& bias) {
  ops_internal::require_same_device(op, {&x, &weight, &bias});
  CHORUS_CHECK(is_floating(x.dtype()), op, ": needs a floating input, got ", dtype_name(x.dtype()),
               " ", shape_str(x.shape()));
  const int64_t k = static_cast<int64_t>(shape.size());
  bool trailing = k >= 1 && k <= x.dim();
  for (int64_t i = 0; trailing && i < k; ++i) trailing = x.shape()[x.dim() - k + i] == shape[i];
  CHORUS_CHECK(trailing, op, ": normalized shape ", shape_str(shape),
               " is not the trailing dims of input ", shape_str(x.shape()));
  bool f64 = x.dtype() == DType::kF64;
  for (const Tensor* p : {&weight, &bias}) {
    if (!p->defined()) continue;
    CHORUS_CHECK(p->shape() == shape, op, ": ", p == &weight ? "weight" : "bias", " of shape ",
                 shape_str(p->shape()), " does not match normalized shape ", shape_str(shape));
    CHORUS_CHECK(is_floating(p->dtype()), op, ": ", p == &weight ? "weight" : "bias",
                 " must be floating, got ", dtype_name(p->dtype()));
    f64 = f64 || p->dtype() == DType::kF64;
  }
  return f64 ? DType::kF64 : DType::kF32;
}

// `t` as a contiguous 1-D buffer of `dtype`, or undefined.
Tensor flat_or_none(const Tensor& t, DType dtype) {
  if (!t.defined()) return Tensor();
  return contiguous_raw(t, dtype).as_strided({t.numel()}, {1}, 0);
}

// `t` as a contiguous [rows, d] buffer of `dtype`.
Tensor as_rows(const Tensor& t, int64_t d, DType dtype) {
  Tensor c = contiguous_raw(t, dtype);
  const int64_t rows = d == 0 ? 0 : t.numel() / d;
  return c.as_strided({rows, d}, {d, 1}, c.offset());
}

Tensor undefined_unless(bool cond, const Tensor& t) { return cond ? t : Tensor(); }

// The dtype the big operands (x, y, g, gx) travel in: bf16 stays bf16 (the kernels widen a
// row at a time, so no f32 copy of x is made), anything else goes to the compute dtype.
DType io_dtype(DType x, DType compute) {
  return x == DType::kBF16 && compute == DType::kF32 ? x : compute;
}

// A fresh contiguous tensor viewed as [rows, d] (undefined stays undefined).
Tensor rows_view(const Tensor& t, int64_t d) {
  if (!t.defined()) return t;
  return t.as_strided({d == 0 ? 0 : t.numel() / d, d}, {d, 1}, 0);
}

}  // namespace

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  const DType compute = check_operands("layer_norm", x, normalized_shape, weight, bias);
  const int64_t d = shape_numel(normalized_shape);
  const DType io = io_dtype(x.dtype(), compute);
  Tensor xr = as_rows(x, d, io);
  const int64_t rows = xr.shape()[0];
  Tensor y = Tensor::empty(xr.shape(), io, x.device());
  Tensor mean = Tensor::empty({rows}, compute, x.device());
  Tensor rstd = Tensor::empty({rows}, compute, x.device());
  CHORUS_KERNEL(cpu::layer_norm_forward)
  (y, mean, rstd, xr, flat_or_none(weight, compute), flat_or_none(bias, compute), eps);
  Tensor out =
      ops_internal::cast_raw(y.as_strided(x.shape(), contiguous_strides(x.shape()), 0), x.dtype());
  // Saves x itself (no copy when it already is contiguous in its kernel dtype) and the
  // per-row statistics, so backward needs no recomputation of mean/rstd.
  autograd::record(
      "layer_norm", {x, weight, bias}, {out},
      [xs = x.detach(), ws = weight.defined() ? weight.detach() : Tensor(), mean, rstd,
       nshape = normalized_shape, d, compute, need_x = x.requires_grad(),
       need_w = weight.defined() && weight.requires_grad(),
       need_b = bias.defined() && bias.requires_grad()](const Grads& g) {
        const DType io = io_dtype(xs.dtype(), compute);
        Tensor gx = undefined_unless(need_x, Tensor::empty(xs.shape(), io, xs.device()));
        Tensor gw = undefined_unless(need_w, Tensor::empty(nshape, compute, xs.device()));
        Tensor gb = undefined_unless(need_b, Tensor::empty(nshape, compute, xs.device()));
        CHORUS_KERNEL(cpu::layer_norm_backward)
        (rows_view(gx, d), flat_or_none(gw, compute), flat_or_none(gb, compute),
         as_rows(g[0], d, io), as_rows(xs, d, io), mean, rstd, flat_or_none(ws, compute));
        return Grads{gx, gw, gb};
      });
  return out;
}

Tensor rms_norm(const Tensor& x, const Tensor& weight, double eps) {
  const Shape shape = weight.defined() ? weight.shape()
                      : x.dim() >= 1   ? Shape{x.shape().back()}
                                       : Shape{};
  const DType compute = check_operands("rms_norm", x, shape, weight, Tensor());
  const int64_t d = shape_numel(shape);
  const DType io = io_dtype(x.dtype(), compute);
  Tensor xr = as_rows(x, d, io);
  Tensor y = Tensor::empty(xr.shape(), io, x.device());
  Tensor rstd = Tensor::empty({xr.shape()[0]}, compute, x.device());
  CHORUS_KERNEL(cpu::rms_norm_forward)(y, rstd, xr, flat_or_none(weight, compute), eps);
  Tensor out =
      ops_internal::cast_raw(y.as_strided(x.shape(), contiguous_strides(x.shape()), 0), x.dtype());
  autograd::record(
      "rms_norm", {x, weight}, {out},
      [xs = x.detach(), ws = weight.defined() ? weight.detach() : Tensor(), rstd, d, compute,
       need_x = x.requires_grad(),
       need_w = weight.defined() && weight.requires_grad()](const Grads& g) {
        const DType io = io_dtype(xs.dtype(), compute);
        Tensor gx = undefined_unless(need_x, Tensor::empty(xs.shape(), io, xs.device()));
        Tensor gw = undefined_unless(
            need_w, Tensor::empty(ws.defined() ? ws.shape() : Shape{d}, compute, xs.device()));
        CHORUS_KERNEL(cpu::rms_norm_backward)
        (rows_view(gx, d), flat_or_none(gw, compute), as_rows(g[0], d, io), as_rows(xs, d, io),
         rstd, flat_or_none(ws, compute));
        return Grads{gx, gw};
      });
  return out;
}

}  // namespace chorus
