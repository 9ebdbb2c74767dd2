// CUDA entries of the fused AdamW and SGD kernel slots.
#include "core/ops/cpu/adamw_kernels.h"
#include "core/ops/cpu/sgd_kernels.h"
#include "core/ops/cuda/check.h"
#include "core/ops/cuda/optim_launch.h"
#include "core/ops/cuda/tensor_operands.h"
#include "core/ops/kernel_dispatch.h"

namespace chorus::cuda {
namespace {

void* ptr(const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; }

void adamw(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
           const cpu::AdamWScalars& s, const Tensor& model_param) {
  const int d = device_index(param, "fused_adamw_");
  DeviceGuard guard(d);
  const AdamWArgs a{s.decay, s.beta1, s.beta2, s.step_size, s.bias_correction2_sqrt, s.eps};
  launch_adamw(param.dtype() == DType::kF64, param.raw_data(), grad.dtype(), grad.raw_data(),
               exp_avg.raw_data(), exp_avg_sq.raw_data(),
               model_param.defined() ? model_param.dtype() : DType::kBF16, ptr(model_param),
               param.numel(), a, current_stream(d));
  check_launch("fused_adamw_", describe("fused_adamw_", {&param, &grad, &model_param}));
}

void sgd(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
         const cpu::SGDScalars& s, const Tensor& model_param) {
  const int d = device_index(param, "fused_sgd_");
  DeviceGuard guard(d);
  const SGDArgs a{s.lr, s.momentum, s.dampening, s.weight_decay, s.nesterov, s.init_buffer};
  launch_sgd(param.dtype() == DType::kF64, param.raw_data(), grad.dtype(), grad.raw_data(),
             s.momentum != 0.0 ? ptr(momentum_buffer) : nullptr,
             model_param.defined() ? model_param.dtype() : DType::kBF16, ptr(model_param),
             param.numel(), a, current_stream(d));
  check_launch("fused_sgd_", describe("fused_sgd_", {&param, &grad, &model_param}));
}

CHORUS_REGISTER_CUDA_KERNEL(cpu::adamw_kernel, adamw);
CHORUS_REGISTER_CUDA_KERNEL(cpu::sgd_kernel, sgd);

}  // namespace
}  // namespace chorus::cuda
