// Fused AdamW update: one pass over a parameter and its state, in place, not recorded by
// autograd. core/optim's AdamW calls it once per parameter; it is an op (not optimizer code) so
// that the CUDA kernel slots in at the same dispatch point.
//
// Per element, with the step-dependent scalars computed once per call:
//   p   <- p * (1 - lr * weight_decay)                (decoupled weight decay)
//   m   <- beta1 * m + (1 - beta1) * g
//   v   <- beta2 * v + (1 - beta2) * g^2
//   p   <- p - lr / (1 - beta1^step) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps)
// which is torch.optim.AdamW's update (amsgrad off, maximize off).
#pragma once

#include <cstdint>

#include "core/tensor/tensor.h"

namespace chorus {

struct AdamWStep {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  int64_t step = 1;  // 1-based: how many updates this parameter has had, this one included
};

// Updates `param`, `exp_avg` and `exp_avg_sq` in place. param and both moments are f32 (or
// f64), same dtype and shape; grad may be any floating dtype (bf16/f16 grads are read
// directly, with no conversion pass). Mixed precision: when `model_param` (bf16 or f16) is
// given, `param` is its fp32 master copy and the updated value is also written into
// model_param, rounded to nearest even, in the same pass.
void fused_adamw_(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                  const Tensor& exp_avg_sq, const AdamWStep& hyper,
                  const Tensor& model_param = Tensor());

}  // namespace chorus
