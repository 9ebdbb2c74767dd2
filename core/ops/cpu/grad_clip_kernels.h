// CPU kernels behind core/ops/grad_clip.h. Inputs arrive contiguous, in f32, f64, bf16 or f16.
#pragma once

#include "core/tensor/tensor.h"

namespace chorus::cpu {

double abs_pow_sum_kernel(const Tensor& x, double p);
void scale_kernel(const Tensor& x, double factor);

}  // namespace chorus::cpu
