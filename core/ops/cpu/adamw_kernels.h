// CPU kernel behind core/ops/fused_adamw.h. Operands arrive contiguous and validated: param,
// exp_avg and exp_avg_sq share a dtype (f32 or f64) and shape; grad is f32, f64, bf16 or f16;
// model_param, when defined, is bf16 or f16.
#pragma once

#include "core/tensor/tensor.h"

namespace chorus::cpu {

// The step-dependent scalars, computed once per call by the front-end (in double).
struct AdamWScalars {
  double decay;                  // 1 - lr * weight_decay
  double beta1, beta2;           // moment decay rates
  double step_size;              // lr / (1 - beta1^step)
  double bias_correction2_sqrt;  // sqrt(1 - beta2^step)
  double eps;
};

void adamw_kernel(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                  const Tensor& exp_avg_sq, const AdamWScalars& s, const Tensor& model_param);

}  // namespace chorus::cpu
