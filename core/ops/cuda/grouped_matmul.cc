// CUDA entries of the grouped (MoE) matmul slots: one tiled GEMM launch per non-empty group.
// `offsets` are host values (the front-end keeps them on the host).
#include "core/ops/cpu/grouped_matmul_kernels.h"
#include "core/ops/cuda/check.h"
#include "core/ops/cuda/gemm_launch.h"
#include "core/ops/cuda/tensor_operands.h"
#include "core/ops/kernel_dispatch.h"

namespace chorus::cuda {
namespace {

char* at(const Tensor& t, int64_t elements) {
  return static_cast<char*>(t.raw_data()) + elements * static_cast<int64_t>(t.itemsize());
}

void forward(const Tensor& out, const Tensor& x, const Tensor& w, const int64_t* offsets) {
  const int dev = device_index(x, "grouped_matmul");
  DeviceGuard guard(dev);
  const int64_t groups = w.size(0), d = w.size(1), f = w.size(2);
  const bool f64 = x.dtype() == DType::kF64;
  for (int64_t e = 0; e < groups; ++e) {
    const int64_t r0 = offsets[e], rows = offsets[e + 1] - offsets[e];
    if (rows == 0) continue;
    launch_gemm(f64, rows, f, d, at(x, r0 * d), d, false, at(w, e * d * f), f, false,
                at(out, r0 * f), f, current_stream(dev));
  }
  check_launch("grouped_matmul", describe("grouped_matmul", {&out, &x, &w}));
}

void backward_input(const Tensor& dx, const Tensor& g, const Tensor& w, const int64_t* offsets) {
  const int dev = device_index(g, "grouped_matmul backward");
  DeviceGuard guard(dev);
  const int64_t groups = w.size(0), d = w.size(1), f = w.size(2);
  const bool f64 = g.dtype() == DType::kF64;
  for (int64_t e = 0; e < groups; ++e) {
    const int64_t r0 = offsets[e], rows = offsets[e + 1] - offsets[e];
    if (rows == 0) continue;
    // dx_e [rows, d] = g_e [rows, f] · w[e]ᵀ ([f, d] as the transpose of [d, f]).
    launch_gemm(f64, rows, d, f, at(g, r0 * f), f, false, at(w, e * d * f), f, true, at(dx, r0 * d),
                d, current_stream(dev));
  }
  check_launch("grouped_matmul backward", describe("grouped_matmul_dx", {&dx, &g, &w}));
}

void backward_weight(const Tensor& dw, const Tensor& x, const Tensor& g, const int64_t* offsets) {
  const int dev = device_index(g, "grouped_matmul backward");
  DeviceGuard guard(dev);
  const int64_t groups = dw.size(0), d = dw.size(1), f = dw.size(2);
  const bool f64 = g.dtype() == DType::kF64;
  for (int64_t e = 0; e < groups; ++e) {
    const int64_t r0 = offsets[e], rows = offsets[e + 1] - offsets[e];
    // dw[e] [d, f] = x_eᵀ ([d, rows]) · g_e [rows, f]; an empty group gets zeros (k = 0).
    launch_gemm(f64, d, f, rows, at(x, r0 * d), d, true, at(g, r0 * f), f, false, at(dw, e * d * f),
                f, current_stream(dev));
  }
  check_launch("grouped_matmul backward", describe("grouped_matmul_dw", {&dw, &x, &g}));
}

CHORUS_REGISTER_CUDA_KERNEL(cpu::grouped_matmul_forward, forward);
CHORUS_REGISTER_CUDA_KERNEL(cpu::grouped_matmul_backward_input, backward_input);
CHORUS_REGISTER_CUDA_KERNEL(cpu::grouped_matmul_backward_weight, backward_weight);

}  // namespace
}  // namespace chorus::cuda
