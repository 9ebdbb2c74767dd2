// Softmax and log-softmax over one dim. Both are numerically stable (the maximum along `dim`
// is subtracted before exponentiating) and differentiable; bf16/f16 inputs are computed in
// f32 and give a result of the input dtype. The last dim takes a row-parallel fast path.
#pragma once

#include "core/tensor/tensor.h"

namespace chorus {

Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

}  // namespace chorus
