// Front-ends of the pooling ops: geometry, validation, autograd. The 1-D ops are the 2-D ones
// on a height-1 image.
#include "core/ops/pool.h"

#include "core/autograd/node.h"
#include "core/ops/cpu/pool_kernels.h"
#include "core/ops/kernel_dispatch.h"
#include "core/ops/operands.h"

namespace chorus {

using autograd::Grads;

namespace {

void check_input(const char* op, const Tensor& x) {
  ops_internal::require_same_device(op, {&x});
  CHORUS_CHECK(x.dim() == 3 || x.dim() == 4, op, ": expects [N, C, H, W] or [C, H, W], got ",
               shape_str(x.shape()));
  CHORUS_CHECK(is_floating(x.dtype()), op, ": expects a floating tensor, got ",
               dtype_name(x.dtype()));
}

// N·C for [N, C, H, W], C for [C, H, W].
int64_t planes_of(const Tensor& x) { return x.dim() == 4 ? x.size(0) * x.size(1) : x.size(0); }

cpu::PoolGeometry window_geometry(const char* op, const Tensor& x, Size2 kernel, Size2 stride,
                                  Size2 padding, Size2 dilation) {
  check_input(op, x);
  cpu::PoolGeometry g;
  g.planes = planes_of(x);
  g.height = x.size(-2);
  g.width = x.size(-1);
  int64_t* out[2] = {&g.out_h, &g.out_w};
  const int64_t in[2] = {g.height, g.width};
  for (int i = 0; i < 2; ++i) {
    const int64_t k = kernel[i], s = stride[i] == 0 ? k : stride[i];
    CHORUS_CHECK(k >= 1 && s >= 1 && dilation[i] >= 1 && padding[i] >= 0, op,
                 ": kernel, stride and dilation must be >= 1 and padding >= 0");
    CHORUS_CHECK(2 * padding[i] <= k, op, ": padding ", padding[i],
                 " is more than half the kernel size ", k);
    const int64_t span = dilation[i] * (k - 1) + 1;
    CHORUS_CHECK(in[i] + 2 * padding[i] >= span, op, ": input ", shape_str(x.shape()),
                 " (padded by ", padding[i], ") is smaller than the window ", span);
    *out[i] = (in[i] + 2 * padding[i] - span) / s + 1;
  }
  g.kernel_h = kernel[0];
  g.kernel_w = kernel[1];
  g.stride_h = stride[0] == 0 ? kernel[0] : stride[0];
  g.stride_w = stride[1] == 0 ? kernel[1] : stride[1];
  g.pad_h = padding[0];
  g.pad_w = padding[1];
  g.dilation_h = dilation[0];
  g.dilation_w = dilation[1];
  return g;
}

Shape out_shape_of(const Tensor& x, const cpu::PoolGeometry& g) {
  Shape s(x.shape().begin(), x.shape().end() - 2);
  s.push_back(g.out_h);
  s.push_back(g.out_w);
  return s;
}

// Records the op's backward: run `kernel(grad_x, grad_out)` in the compute dtype.
template <class Backward>
void record_pool(const char* name, const Tensor& x, const Tensor& out, Backward backward) {
  autograd::record(name, {x}, {out},
                   [shape = x.shape(), dtype = x.dtype(), backward](const Grads& g) {
                     const DType compute = ops_internal::kernel_dtype(dtype);
                     Tensor gx = Tensor::empty(shape, compute, g[0].device());
                     backward(gx, ops_internal::contiguous_raw(g[0], compute));
                     return Grads{ops_internal::cast_raw(gx, dtype)};
                   });
}

}  // namespace

ValuesIndices max_pool2d_with_indices(const Tensor& x, Size2 kernel, Size2 stride, Size2 padding,
                                      Size2 dilation) {
  const cpu::PoolGeometry g = window_geometry("max_pool2d", x, kernel, stride, padding, dilation);
  const DType compute = ops_internal::kernel_dtype(x.dtype());
  const Shape shape = out_shape_of(x, g);
  Tensor out = Tensor::empty(shape, compute, x.device());
  Tensor indices = Tensor::empty(shape, DType::kI64, x.device());
  CHORUS_KERNEL(cpu::max_pool2d_forward)(out, indices, ops_internal::contiguous_raw(x, compute), g);
  out = ops_internal::cast_raw(out, x.dtype());
  record_pool("max_pool2d", x, out, [g, indices](const Tensor& gx, const Tensor& go) {
    CHORUS_KERNEL(cpu::max_pool2d_backward)(gx, go, indices, g);
  });
  return {out, indices};
}

Tensor max_pool2d(const Tensor& x, Size2 kernel, Size2 stride, Size2 padding, Size2 dilation) {
  return max_pool2d_with_indices(x, kernel, stride, padding, dilation).values;
}

Tensor avg_pool2d(const Tensor& x, Size2 kernel, Size2 stride, Size2 padding,
                  bool count_include_pad) {
  const cpu::PoolGeometry g = window_geometry("avg_pool2d", x, kernel, stride, padding, {1, 1});
  const DType compute = ops_internal::kernel_dtype(x.dtype());
  Tensor out = Tensor::empty(out_shape_of(x, g), compute, x.device());
  CHORUS_KERNEL(cpu::avg_pool2d_forward)
  (out, ops_internal::contiguous_raw(x, compute), g, count_include_pad);
  out = ops_internal::cast_raw(out, x.dtype());
  record_pool("avg_pool2d", x, out, [g, count_include_pad](const Tensor& gx, const Tensor& go) {
    CHORUS_KERNEL(cpu::avg_pool2d_backward)(gx, go, g, count_include_pad);
  });
  return out;
}

Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size) {
  check_input("adaptive_avg_pool2d", x);
  CHORUS_CHECK(output_size[0] >= 1 && output_size[1] >= 1 && x.size(-2) >= 1 && x.size(-1) >= 1,
               "adaptive_avg_pool2d: output size (", output_size[0], ", ", output_size[1],
               ") and input ", shape_str(x.shape()), " must be non-empty");
  cpu::PoolGeometry g;
  g.height = x.size(-2);
  g.width = x.size(-1);
  g.planes = planes_of(x);
  g.out_h = output_size[0];
  g.out_w = output_size[1];
  const DType compute = ops_internal::kernel_dtype(x.dtype());
  Tensor out = Tensor::empty(out_shape_of(x, g), compute, x.device());
  CHORUS_KERNEL(cpu::adaptive_avg_pool2d_forward)(out, ops_internal::contiguous_raw(x, compute), g);
  out = ops_internal::cast_raw(out, x.dtype());
  record_pool("adaptive_avg_pool2d", x, out, [g](const Tensor& gx, const Tensor& go) {
    CHORUS_KERNEL(cpu::adaptive_avg_pool2d_backward)(gx, go, g);
  });
  return out;
}

// ---------------------------------------------------------------- 1-D

namespace {
void check_1d(const char* op, const Tensor& x) {
  CHORUS_CHECK(x.dim() == 2 || x.dim() == 3, op, ": expects [N, C, L] or [C, L], got ",
               shape_str(x.shape()));
}
int64_t stride_or_kernel(int64_t stride, int64_t kernel) { return stride == 0 ? kernel : stride; }
}  // namespace

ValuesIndices max_pool1d_with_indices(const Tensor& x, int64_t kernel, int64_t stride,
                                      int64_t padding, int64_t dilation) {
  check_1d("max_pool1d", x);
  ValuesIndices r =
      max_pool2d_with_indices(x.unsqueeze(-2), {1, kernel}, {1, stride_or_kernel(stride, kernel)},
                              {0, padding}, {1, dilation});
  return {r.values.squeeze(-2), r.indices.squeeze(-2)};
}

Tensor max_pool1d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding,
                  int64_t dilation) {
  return max_pool1d_with_indices(x, kernel, stride, padding, dilation).values;
}

Tensor avg_pool1d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding,
                  bool count_include_pad) {
  check_1d("avg_pool1d", x);
  return avg_pool2d(x.unsqueeze(-2), {1, kernel}, {1, stride_or_kernel(stride, kernel)},
                    {0, padding}, count_include_pad)
      .squeeze(-2);
}

Tensor adaptive_avg_pool1d(const Tensor& x, int64_t output_size) {
  check_1d("adaptive_avg_pool1d", x);
  return adaptive_avg_pool2d(x.unsqueeze(-2), {1, output_size}).squeeze(-2);
}

}  // namespace chorus
