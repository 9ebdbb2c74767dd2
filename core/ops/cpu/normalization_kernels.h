// CPU kernels behind core/ops/normalization.h. x, y, g, gx are contiguous 2-D [rows, d] in the
// compute dtype (f32/f64), or all bf16 (computed in f32 a row at a time); weight, bias,
// gweight, gbias are contiguous [d] and mean, rstd are [rows], in the compute dtype (f32 for
// bf16). An undefined weight/bias means none; an undefined backward output is not computed.
#pragma once

#include "core/tensor/tensor.h"

namespace chorus::cpu {

// Fused forward: per row, mean and rstd = 1/sqrt(var + eps) (biased variance), then
// y = (x - mean)·rstd·weight + bias in one more pass over the (cache-resident) row.
void layer_norm_forward(const Tensor& y, const Tensor& mean, const Tensor& rstd, const Tensor& x,
                        const Tensor& weight, const Tensor& bias, double eps);

// With x̂ = (x - mean)·rstd and ĝ = g·weight:
//   gx = rstd·(ĝ - mean(ĝ) - x̂·mean(ĝ·x̂)),  gweight = Σ_rows g·x̂,  gbias = Σ_rows g.
void layer_norm_backward(const Tensor& gx, const Tensor& gweight, const Tensor& gbias,
                         const Tensor& g, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                         const Tensor& weight);

// RMS norm: rstd = 1/sqrt(mean(x²) + eps), y = x·rstd·weight.
void rms_norm_forward(const Tensor& y, const Tensor& rstd, const Tensor& x, const Tensor& weight,
                      double eps);

// With x̂ = x·rstd and ĝ = g·weight: gx = rstd·(ĝ - x̂·mean(ĝ·x̂)), gweight = Σ_rows g·x̂.
void rms_norm_backward(const Tensor& gx, const Tensor& gweight, const Tensor& g, const Tensor& x,
                       const Tensor& rstd, const Tensor& weight);

}  // namespace chorus::cpu
