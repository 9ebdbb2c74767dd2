// CPU kernel behind core/ops/fused_sgd.h. Operands arrive contiguous and validated: param and
// momentum_buffer (undefined when momentum is 0) share a dtype (f32 or f64) and shape; grad is
// f32, f64, bf16 or f16; model_param, when defined, is bf16 or f16.
#pragma once

#include "core/tensor/tensor.h"

namespace chorus::cpu {

struct SGDScalars {
  double lr;
  double momentum;
  double dampening;
  double weight_decay;
  bool nesterov;
  bool init_buffer;  // first update of this buffer: buf = d_p, without dampening
};

void sgd_kernel(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
                const SGDScalars& s, const Tensor& model_param);

}  // namespace chorus::cpu
