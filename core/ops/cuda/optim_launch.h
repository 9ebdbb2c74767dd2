// Launchers of the fused optimizer updates (optim_kernels.cu). param and its state are
// contiguous f32 (f64 = false) or f64; grad is f32, f64, bf16 or f16; model (may be null) is
// bf16 or f16 (model_dtype) and receives the updated value rounded to nearest even.
#pragma once

#include "core/ops/cuda/launch.h"

namespace chorus::cuda {

struct AdamWArgs {
  double decay, beta1, beta2, step_size, bias_correction2_sqrt, eps;
};
struct SGDArgs {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, init_buffer;
};

void launch_adamw(bool f64, void* param, DType grad_dtype, const void* grad, void* exp_avg,
                  void* exp_avg_sq, DType model_dtype, void* model, int64_t n, const AdamWArgs& a,
                  StreamHandle stream);
// momentum_buffer is null when momentum is 0.
void launch_sgd(bool f64, void* param, DType grad_dtype, const void* grad, void* momentum_buffer,
                DType model_dtype, void* model, int64_t n, const SGDArgs& a, StreamHandle stream);

}  // namespace chorus::cuda
