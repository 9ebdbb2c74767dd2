// CUDA entries of the softmax, layer_norm and rms_norm kernel slots.
#include "core/ops/cpu/normalization_kernels.h"
#include "core/ops/cpu/softmax_kernels.h"
#include "core/ops/cuda/check.h"
#include "core/ops/cuda/row_launch.h"
#include "core/ops/cuda/tensor_operands.h"
#include "core/ops/kernel_dispatch.h"

namespace chorus::cuda {
namespace {

void* ptr(const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; }

void check_io(const char* op, const Tensor& t) {
  CHORUS_CHECK(t.dtype() == DType::kF32 || t.dtype() == DType::kF64 || t.dtype() == DType::kBF16,
               op, " on CUDA: expected f32, f64 or bf16 rows, got ", dtype_name(t.dtype()));
}

void softmax_forward(const Tensor& y, const Tensor& x, int64_t outer, int64_t n, int64_t inner,
                     bool log) {
  const int d = device_index(x, "softmax");
  check_io("softmax", x);
  DeviceGuard guard(d);
  launch_softmax_forward(x.dtype(), y.raw_data(), x.raw_data(), outer, n, inner, log,
                         current_stream(d));
  check_launch("softmax", describe("softmax", {&y, &x}));
}

void softmax_backward(const Tensor& gx, const Tensor& g, const Tensor& y, int64_t outer, int64_t n,
                      int64_t inner, bool log) {
  const int d = device_index(y, "softmax backward");
  check_io("softmax backward", y);
  DeviceGuard guard(d);
  launch_softmax_backward(y.dtype(), gx.raw_data(), g.raw_data(), y.raw_data(), outer, n, inner,
                          log, current_stream(d));
  check_launch("softmax backward", describe("softmax_backward", {&gx, &g, &y}));
}

void norm_forward(bool rms, const Tensor& y, const Tensor& mean, const Tensor& rstd,
                  const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  const char* op = rms ? "rms_norm" : "layer_norm";
  const int d = device_index(x, op);
  check_io(op, x);
  DeviceGuard guard(d);
  launch_norm_forward(rms, x.dtype(), y.raw_data(), ptr(mean), rstd.raw_data(), x.raw_data(),
                      ptr(weight), ptr(bias), x.shape()[0], x.shape()[1], eps, current_stream(d));
  check_launch(op, describe(op, {&y, &x, &weight, &bias}));
}

void norm_backward(bool rms, const Tensor& gx, const Tensor& gweight, const Tensor& gbias,
                   const Tensor& g, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                   const Tensor& weight) {
  const char* op = rms ? "rms_norm backward" : "layer_norm backward";
  const int d = device_index(x, op);
  check_io(op, x);
  const int64_t rows = x.shape()[0], dim = x.shape()[1];
  if (rows == 0 || dim == 0) {  // nothing to normalise: parameter gradients are zero
    if (gweight.defined()) gweight.zero_();
    if (gbias.defined()) gbias.zero_();
    return;
  }
  Tensor workspace;
  if (gweight.defined() || gbias.defined()) {
    workspace = Tensor::empty({norm_backward_workspace(x.dtype() == DType::kF64, rows, dim)},
                              DType::kU8, x.device());
  }
  DeviceGuard guard(d);
  launch_norm_backward(rms, x.dtype(), ptr(gx), ptr(gweight), ptr(gbias), g.raw_data(),
                       x.raw_data(), ptr(mean), rstd.raw_data(), ptr(weight), rows, dim,
                       ptr(workspace), current_stream(d));
  check_launch(op, describe(op, {&gx, &g, &x, &weight}));
}

void layer_norm_forward(const Tensor& y, const Tensor& mean, const Tensor& rstd, const Tensor& x,
                        const Tensor& weight, const Tensor& bias, double eps) {
  norm_forward(false, y, mean, rstd, x, weight, bias, eps);
}
void layer_norm_backward(const Tensor& gx, const Tensor& gweight, const Tensor& gbias,
                         const Tensor& g, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                         const Tensor& weight) {
  norm_backward(false, gx, gweight, gbias, g, x, mean, rstd, weight);
}
void rms_norm_forward(const Tensor& y, const Tensor& rstd, const Tensor& x, const Tensor& weight,
                      double eps) {
  norm_forward(true, y, Tensor(), rstd, x, weight, Tensor(), eps);
}
void rms_norm_backward(const Tensor& gx, const Tensor& gweight, const Tensor& g, const Tensor& x,
                       const Tensor& rstd, const Tensor& weight) {
  norm_backward(true, gx, gweight, Tensor(), g, x, Tensor(), rstd, weight);
}

CHORUS_REGISTER_CUDA_KERNEL(cpu::softmax_forward, softmax_forward);
CHORUS_REGISTER_CUDA_KERNEL(cpu::softmax_backward, softmax_backward);
CHORUS_REGISTER_CUDA_KERNEL(cpu::layer_norm_forward, layer_norm_forward);
CHORUS_REGISTER_CUDA_KERNEL(cpu::layer_norm_backward, layer_norm_backward);
CHORUS_REGISTER_CUDA_KERNEL(cpu::rms_norm_forward, rms_norm_forward);
CHORUS_REGISTER_CUDA_KERNEL(cpu::rms_norm_backward, rms_norm_backward);

}  // namespace
}  // namespace chorus::cuda
