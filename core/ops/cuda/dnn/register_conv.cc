// CUDA entries of the convolution kernel slots (cpu::conv2d_forward, conv2d_backward_input,
// conv2d_backward_weight) through cuDNN (conv.h). f64 runs the CPU kernels on host copies.
#include "core/ops/cpu/conv_kernels.h"
#include "core/ops/cuda/dnn/conv.h"
#include "core/ops/cuda/runtime.h"
#include "core/ops/cuda/tensor_operands.h"
#include "core/ops/kernel_dispatch.h"

namespace chorus::cuda {
namespace {

dnn::ConvProblem problem(const cpu::ConvGeometry& g, DType dtype) {
  dnn::ConvProblem p;
  p.n = g.batch, p.c = g.in_channels, p.h = g.height, p.w = g.width;
  p.o = g.out_channels, p.kh = g.kernel_h, p.kw = g.kernel_w;
  p.stride_h = g.stride_h, p.stride_w = g.stride_w, p.pad_h = g.pad_h, p.pad_w = g.pad_w;
  p.dil_h = g.dilation_h, p.dil_w = g.dilation_w, p.groups = g.groups;
  p.out_h = g.out_h, p.out_w = g.out_w;
  p.dtype = dtype;
  return p;
}

bool empty(const cpu::ConvGeometry& g) {
  return g.batch == 0 || g.in_channels == 0 || g.out_channels == 0 || g.out_h == 0 || g.out_w == 0;
}

void cuda_conv2d_forward(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias,
                         const cpu::ConvGeometry& g) {
  if (x.dtype() == DType::kF64) {
    ops_internal::host_fallback<&cpu::conv2d_forward>("cpu::conv2d_forward", out, x, w, bias, g);
    return;
  }
  const int d = device_index(x, "conv2d");
  DeviceGuard guard(d);
  if (out.numel() == 0) return;
  if (empty(g)) {  // no input channels: the output is the bias (or zero)
    if (bias.defined()) {
      out.copy_(bias.as_strided(out.shape(), {0, 1, 0, 0}, bias.offset()));
    } else {
      out.zero_();
    }
    return;
  }
  dnn::conv_forward(problem(g, x.dtype()), x.raw_data(), w.raw_data(),
                    bias.defined() ? bias.raw_data() : nullptr, out.raw_data(), current_stream(d));
}

void cuda_conv2d_backward_input(const Tensor& grad_x, const Tensor& grad_out, const Tensor& w,
                                const cpu::ConvGeometry& g) {
  if (grad_x.dtype() == DType::kF64) {
    ops_internal::host_fallback<&cpu::conv2d_backward_input>("cpu::conv2d_backward_input", grad_x,
                                                             grad_out, w, g);
    return;
  }
  const int d = device_index(grad_x, "conv2d backward");
  DeviceGuard guard(d);
  if (grad_x.numel() == 0) return;
  if (empty(g)) {
    grad_x.zero_();
    return;
  }
  dnn::conv_backward_data(problem(g, grad_x.dtype()), grad_out.raw_data(), w.raw_data(),
                          grad_x.raw_data(), current_stream(d));
}

void cuda_conv2d_backward_weight(const Tensor& grad_w, const Tensor& grad_out, const Tensor& x,
                                 const cpu::ConvGeometry& g) {
  if (grad_w.dtype() == DType::kF64) {
    ops_internal::host_fallback<&cpu::conv2d_backward_weight>("cpu::conv2d_backward_weight", grad_w,
                                                              grad_out, x, g);
    return;
  }
  const int d = device_index(grad_w, "conv2d backward");
  DeviceGuard guard(d);
  if (grad_w.numel() == 0) return;
  if (empty(g)) {
    grad_w.zero_();
    return;
  }
  dnn::conv_backward_filter(problem(g, grad_w.dtype()), grad_out.raw_data(), x.raw_data(),
                            grad_w.raw_data(), current_stream(d));
}

}  // namespace

CHORUS_REGISTER_CUDA_KERNEL(cpu::conv2d_forward, cuda_conv2d_forward);
CHORUS_REGISTER_CUDA_KERNEL(cpu::conv2d_backward_input, cuda_conv2d_backward_input);
CHORUS_REGISTER_CUDA_KERNEL(cpu::conv2d_backward_weight, cuda_conv2d_backward_weight);

}  // namespace chorus::cuda
