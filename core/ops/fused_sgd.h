// Fused SGD-with-momentum update: one pass over a parameter and its momentum buffer, in place,
// not recorded by autograd (see fused_adamw.h for why optimizer updates are ops).
//
// Per element, with torch.optim.SGD's semantics (maximize off):
//   d   <- g + weight_decay * p
//   buf <- momentum * buf + (1 - dampening) * d     (buf <- d on the buffer's first update)
//   d   <- nesterov ? d + momentum * buf : buf      (only when momentum != 0)
//   p   <- p - lr * d
#pragma once

#include "core/tensor/tensor.h"

namespace chorus {

struct SGDStep {
  double lr = 0.01;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
  // True on the buffer's first update: it is set to d (dampening does not apply), as PyTorch
  // does when it creates the buffer.
  bool init_buffer = false;
};

// Updates `param` (f32 or f64) and, when momentum != 0, `momentum_buffer` (param's dtype and
// shape; undefined otherwise) in place. grad may be any floating dtype. `model_param` as in
// fused_adamw_: the bf16/f16 parameter whose fp32 master `param` is, written rounded.
void fused_sgd_(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
                const SGDStep& hyper, const Tensor& model_param = Tensor());

}  // namespace chorus
