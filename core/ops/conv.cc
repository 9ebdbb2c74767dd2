// Front-ends of conv1d/conv2d: validation, output geometry, autograd. conv1d is conv2d on a
// height-1 image.
#include "core/ops/conv.h"

#include "core/autograd/node.h"
#include "core/ops/cpu/conv_kernels.h"
#include "core/ops/kernel_dispatch.h"
#include "core/ops/operands.h"
#include "core/ops/reduce.h"

namespace chorus {

using autograd::Grads;

namespace {

// Output size along one dim; throws when the kernel does not fit.
int64_t out_size(const char* op, int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dil) {
  const int64_t span = dil * (k - 1) + 1;
  CHORUS_CHECK(in + 2 * pad >= span, op, ": input size ", in, " (padded ", in + 2 * pad,
               ") is smaller than the dilated kernel ", span);
  return (in + 2 * pad - span) / stride + 1;
}

cpu::ConvGeometry geometry(const Tensor& x4, const Tensor& w, const Conv2dOptions& o) {
  cpu::ConvGeometry g;
  g.batch = x4.size(0);
  g.in_channels = x4.size(1);
  g.height = x4.size(2);
  g.width = x4.size(3);
  g.out_channels = w.size(0);
  g.kernel_h = w.size(2);
  g.kernel_w = w.size(3);
  g.stride_h = o.stride[0];
  g.stride_w = o.stride[1];
  g.pad_h = o.padding[0];
  g.pad_w = o.padding[1];
  g.dilation_h = o.dilation[0];
  g.dilation_w = o.dilation[1];
  g.groups = o.groups;
  g.out_h = out_size("conv2d", g.height, g.kernel_h, g.stride_h, g.pad_h, g.dilation_h);
  g.out_w = out_size("conv2d", g.width, g.kernel_w, g.stride_w, g.pad_w, g.dilation_w);
  return g;
}

void check_conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& o) {
  ops_internal::require_same_device("conv2d", {&x, &w, &bias});
  CHORUS_CHECK((x.dim() == 3 || x.dim() == 4) && w.dim() == 4, "conv2d: expects input ",
               "[N, C, H, W] or [C, H, W] and weight [O, C/groups, kh, kw], got ",
               shape_str(x.shape()), " and ", shape_str(w.shape()));
  CHORUS_CHECK(is_floating(x.dtype()) && x.dtype() == w.dtype() &&
                   (!bias.defined() || bias.dtype() == x.dtype()),
               "conv2d: input, weight and bias must share one floating dtype, got ",
               dtype_name(x.dtype()), " and ", dtype_name(w.dtype()));
  const int64_t c = x.size(-3), out = w.size(0);
  CHORUS_CHECK(
      o.groups >= 1 && c % o.groups == 0 && out % o.groups == 0 && w.size(1) * o.groups == c,
      "conv2d: input with ", c, " channels, weight ", shape_str(w.shape()),
      " and groups=", o.groups,
      " do not fit (need weight [O, C/groups, kh, kw] with "
      "C and O divisible by groups)");
  CHORUS_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == out), "conv2d: bias ",
               shape_str(bias.shape()), " for ", out, " output channels");
  for (int i = 0; i < 2; ++i) {
    CHORUS_CHECK(o.stride[i] >= 1 && o.dilation[i] >= 1 && o.padding[i] >= 0,
                 "conv2d: stride and dilation must be >= 1 and padding >= 0");
  }
}

// A contiguous tensor viewed with another shape of the same size (no recording).
Tensor reshape_raw(const Tensor& t, const Shape& shape) {
  return t.as_strided(shape, contiguous_strides(shape), t.offset());
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
              const Conv2dOptions& options) {
  check_conv2d(x, weight, bias, options);
  const bool unbatched = x.dim() == 3;
  const DType compute = ops_internal::kernel_dtype(x.dtype());
  Tensor xc = ops_internal::contiguous_raw(x, compute);
  if (unbatched) xc = reshape_raw(xc, {1, x.size(0), x.size(1), x.size(2)});
  const cpu::ConvGeometry g = geometry(xc, weight, options);
  Tensor out = Tensor::empty({g.batch, g.out_channels, g.out_h, g.out_w}, compute, x.device());
  CHORUS_KERNEL(cpu::conv2d_forward)
  (out, xc, ops_internal::contiguous_raw(weight, compute),
   bias.defined() ? ops_internal::contiguous_raw(bias, compute) : Tensor(), g);
  if (unbatched) out = reshape_raw(out, {g.out_channels, g.out_h, g.out_w});
  out = ops_internal::cast_raw(out, x.dtype());

  autograd::record(
      "conv2d", {x, weight, bias}, {out},
      [dx = x.detach(), dw = weight.detach(), g, unbatched, need_x = x.requires_grad(),
       need_w = weight.requires_grad(),
       need_b = bias.defined() && bias.requires_grad()](const Grads& grads) {
        const DType compute = ops_internal::kernel_dtype(dx.dtype());
        const Shape out4{g.batch, g.out_channels, g.out_h, g.out_w};
        const Tensor go = reshape_raw(ops_internal::contiguous_raw(grads[0], compute), out4);
        Grads result(3);
        if (need_x) {
          Tensor gx =
              Tensor::empty({g.batch, g.in_channels, g.height, g.width}, compute, go.device());
          CHORUS_KERNEL(cpu::conv2d_backward_input)
          (gx, go, ops_internal::contiguous_raw(dw, compute), g);
          result[0] = ops_internal::cast_raw(reshape_raw(gx, dx.shape()), dx.dtype());
        }
        if (need_w) {
          Tensor gw = Tensor::empty(dw.shape(), compute, go.device());
          const Tensor xc = reshape_raw(ops_internal::contiguous_raw(dx, compute),
                                        {g.batch, g.in_channels, g.height, g.width});
          CHORUS_KERNEL(cpu::conv2d_backward_weight)(gw, go, xc, g);
          result[1] = ops_internal::cast_raw(gw, dw.dtype());
        }
        if (need_b) {
          result[2] =
              sum(grads[0], unbatched ? std::vector<int64_t>{1, 2} : std::vector<int64_t>{0, 2, 3});
        }
        return result;
      });
  return out;
}

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias,
              const Conv1dOptions& options) {
  CHORUS_CHECK((x.dim() == 2 || x.dim() == 3) && weight.dim() == 3, "conv1d: expects input ",
               "[N, C, L] or [C, L] and weight [O, C/groups, k], got ", shape_str(x.shape()),
               " and ", shape_str(weight.shape()));
  Conv2dOptions o;
  o.stride = {1, options.stride};
  o.padding = {0, options.padding};
  o.dilation = {1, options.dilation};
  o.groups = options.groups;
  return conv2d(x.unsqueeze(-2), weight.unsqueeze(2), bias, o).squeeze(-2);
}

}  // namespace chorus
