// CUDA entries of the pooling kernel slots (cpu/pool_kernels.h): max, average and adaptive
// average pooling, forward and backward, on contiguous f32/f64 planes (pool_kernels.cu). The
// front-end (core/ops/pool.cc) hands half-precision inputs over as f32, so bf16/f16 pool in f32.
#include "core/ops/cpu/pool_kernels.h"
#include "core/ops/cuda/check.h"
#include "core/ops/cuda/pool_launch.h"
#include "core/ops/cuda/tensor_operands.h"
#include "core/ops/kernel_dispatch.h"

namespace chorus::cuda {
namespace {

PoolShape shape_of(const cpu::PoolGeometry& g) {
  PoolShape s;
  s.planes = g.planes;
  s.height = g.height;
  s.width = g.width;
  s.out_h = g.out_h;
  s.out_w = g.out_w;
  s.kernel_h = g.kernel_h;
  s.kernel_w = g.kernel_w;
  s.stride_h = g.stride_h;
  s.stride_w = g.stride_w;
  s.pad_h = g.pad_h;
  s.pad_w = g.pad_w;
  s.dilation_h = g.dilation_h;
  s.dilation_w = g.dilation_w;
  return s;
}

// The kernels take f32 or f64 (what the CPU kernels take); anything else is a front-end bug.
bool is_f64(const char* op, const Tensor& t) {
  CHORUS_CHECK(t.dtype() == DType::kF32 || t.dtype() == DType::kF64, op,
               ": the CUDA kernel takes f32 or f64, got ", dtype_name(t.dtype()));
  return t.dtype() == DType::kF64;
}

PoolKind avg_kind(bool count_include_pad) {
  return count_include_pad ? PoolKind::kAvgIncludePad : PoolKind::kAvg;
}

void max_pool2d_forward(const Tensor& out, const Tensor& indices, const Tensor& x,
                        const cpu::PoolGeometry& g) {
  const bool f64 = is_f64("max_pool2d", x);
  const int d = device_index(x, "max_pool2d");
  DeviceGuard guard(d);
  launch_max_pool_forward(f64, out.raw_data(), static_cast<int64_t*>(indices.raw_data()),
                          x.raw_data(), shape_of(g), current_stream(d));
  check_launch("max_pool2d", describe("max_pool2d", {&out, &indices, &x}));
}

void max_pool2d_backward(const Tensor& grad_x, const Tensor& grad_out, const Tensor& indices,
                         const cpu::PoolGeometry& g) {
  const bool f64 = is_f64("max_pool2d backward", grad_x);
  const int d = device_index(grad_x, "max_pool2d backward");
  DeviceGuard guard(d);
  launch_max_pool_backward(f64, grad_x.raw_data(), grad_out.raw_data(),
                           static_cast<const int64_t*>(indices.raw_data()), shape_of(g),
                           current_stream(d));
  check_launch("max_pool2d backward",
               describe("max_pool2d_backward", {&grad_x, &grad_out, &indices}));
}

void avg_pool2d_forward(const Tensor& out, const Tensor& x, const cpu::PoolGeometry& g,
                        bool count_include_pad) {
  const bool f64 = is_f64("avg_pool2d", x);
  const int d = device_index(x, "avg_pool2d");
  DeviceGuard guard(d);
  launch_avg_pool_forward(f64, avg_kind(count_include_pad), out.raw_data(), x.raw_data(),
                          shape_of(g), current_stream(d));
  check_launch("avg_pool2d", describe("avg_pool2d", {&out, &x}));
}

void avg_pool2d_backward(const Tensor& grad_x, const Tensor& grad_out, const cpu::PoolGeometry& g,
                         bool count_include_pad) {
  const bool f64 = is_f64("avg_pool2d backward", grad_x);
  const int d = device_index(grad_x, "avg_pool2d backward");
  DeviceGuard guard(d);
  launch_avg_pool_backward(f64, avg_kind(count_include_pad), grad_x.raw_data(), grad_out.raw_data(),
                           shape_of(g), current_stream(d));
  check_launch("avg_pool2d backward", describe("avg_pool2d_backward", {&grad_x, &grad_out}));
}

void adaptive_avg_pool2d_forward(const Tensor& out, const Tensor& x, const cpu::PoolGeometry& g) {
  const bool f64 = is_f64("adaptive_avg_pool2d", x);
  const int d = device_index(x, "adaptive_avg_pool2d");
  DeviceGuard guard(d);
  launch_avg_pool_forward(f64, PoolKind::kAdaptive, out.raw_data(), x.raw_data(), shape_of(g),
                          current_stream(d));
  check_launch("adaptive_avg_pool2d", describe("adaptive_avg_pool2d", {&out, &x}));
}

void adaptive_avg_pool2d_backward(const Tensor& grad_x, const Tensor& grad_out,
                                  const cpu::PoolGeometry& g) {
  const bool f64 = is_f64("adaptive_avg_pool2d backward", grad_x);
  const int d = device_index(grad_x, "adaptive_avg_pool2d backward");
  DeviceGuard guard(d);
  launch_avg_pool_backward(f64, PoolKind::kAdaptive, grad_x.raw_data(), grad_out.raw_data(),
                           shape_of(g), current_stream(d));
  check_launch("adaptive_avg_pool2d backward",
               describe("adaptive_avg_pool2d_backward", {&grad_x, &grad_out}));
}

CHORUS_REGISTER_CUDA_KERNEL(cpu::max_pool2d_forward, max_pool2d_forward);
CHORUS_REGISTER_CUDA_KERNEL(cpu::max_pool2d_backward, max_pool2d_backward);
CHORUS_REGISTER_CUDA_KERNEL(cpu::avg_pool2d_forward, avg_pool2d_forward);
CHORUS_REGISTER_CUDA_KERNEL(cpu::avg_pool2d_backward, avg_pool2d_backward);
CHORUS_REGISTER_CUDA_KERNEL(cpu::adaptive_avg_pool2d_forward, adaptive_avg_pool2d_forward);
CHORUS_REGISTER_CUDA_KERNEL(cpu::adaptive_avg_pool2d_backward, adaptive_avg_pool2d_backward);

}  // namespace
}  // namespace chorus::cuda
