// Normalisation over the trailing dims of a tensor, with fused forward and backward kernels.
// Statistics are computed in f32 (f64 for f64 inputs); bf16/f16 inputs give results of their
// own dtype. weight and bias are optional (pass an undefined Tensor) and may have a different
// floating dtype than x (e.g. f32 parameters with bf16 activations).
#pragma once

#include "core/tensor/tensor.h"

namespace chorus {

// PyTorch's layer_norm: normalises over the trailing dims `normalized_shape` with the biased
// variance, y = (x - mean) / sqrt(var + eps) · weight + bias; weight and bias have shape
// normalized_shape.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);

// RMS norm: y = x / sqrt(mean(x²) + eps) · weight, over the trailing dims that weight covers
// (the last dim when weight is undefined).
Tensor rms_norm(const Tensor& x, const Tensor& weight = Tensor(), double eps = 1e-6);

}  // namespace chorus
