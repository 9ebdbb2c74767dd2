// CPU kernels behind core/ops/grad_clip.h. Inputs arrive contiguous, in f32, f64, bf16 or f16.
#pragma once

#include "core/tensor/tensor.h"

namespace chorus::cpu {

double abs_pow_sum_kernel(const Tensor& x, double p);
// acc[0] (one f64) <- acc[0] + abs_pow_sum_kernel(x, p), or the NaN-propagating max for p = inf.
void abs_pow_sum_accumulate_kernel(const Tensor& acc, const Tensor& x, double p);
void scale_kernel(const Tensor& x, double factor);

}  // namespace chorus::cpu
