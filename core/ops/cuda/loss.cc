// CUDA entries of the fused cross-entropy kernel slots.
#include "core/ops/cpu/loss_kernels.h"
#include "core/ops/cuda/check.h"
#include "core/ops/cuda/loss_launch.h"
#include "core/ops/cuda/tensor_operands.h"
#include "core/ops/kernel_dispatch.h"

namespace chorus::cuda {
namespace {

void forward(const Tensor& loss, const Tensor& lse, const Tensor& logits, const Tensor& targets,
             int64_t ignore_index, double smoothing) {
  const int d = device_index(logits, "cross_entropy");
  DeviceGuard guard(d);
  launch_cross_entropy_forward(logits.dtype(), loss.raw_data(), lse.raw_data(), logits.raw_data(),
                               targets.device_data<int64_t>(), logits.shape()[0], logits.shape()[1],
                               ignore_index, smoothing, current_stream(d));
  check_launch("cross_entropy", describe("cross_entropy", {&logits, &targets}));
}

void backward(const Tensor& gx, const Tensor& grad, double factor, const Tensor& logits,
              const Tensor& targets, const Tensor& lse, int64_t ignore_index, double smoothing) {
  const int d = device_index(logits, "cross_entropy backward");
  DeviceGuard guard(d);
  const int64_t n = logits.shape()[0];
  launch_cross_entropy_backward(logits.dtype(), gx.raw_data(), grad.raw_data(), grad.numel() == n,
                                factor, logits.raw_data(), targets.device_data<int64_t>(),
                                lse.raw_data(), n, logits.shape()[1], ignore_index, smoothing,
                                current_stream(d));
  check_launch("cross_entropy backward",
               describe("cross_entropy_backward", {&gx, &grad, &logits, &targets}));
}

CHORUS_REGISTER_CUDA_KERNEL(cpu::cross_entropy_forward, forward);
CHORUS_REGISTER_CUDA_KERNEL(cpu::cross_entropy_backward, backward);

}  // namespace
}  // namespace chorus::cuda
