// Fused-epilogue fast paths of linear, as kernel slots (core/ops/kernel_dispatch.h). The CPU
// entries return false ("not taken"), and the front-end then runs the generic product; the CUDA
// backend registers cuBLASLt versions that fold the bias into the GEMM's epilogue, saving one
// pass over the output forward and one over the output gradient backward.
#pragma once

#include "core/tensor/tensor.h"

namespace chorus::ops_internal {

// out [rows, out_features] = x [rows, in] · w [out_features, in]ᵀ + bias [out_features].
// All four share one dtype; x and out are contiguous. Returns whether it wrote `out`.
bool linear_bias_forward(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias);

// dw [out_features, in] = g [rows, out_features]ᵀ · x [rows, in] and db [out_features] = Σ_rows g,
// in one GEMM. g and x contiguous, one dtype. Returns whether it wrote dw and db.
bool linear_weight_bias_backward(const Tensor& dw, const Tensor& db, const Tensor& g,
                                 const Tensor& x);

}  // namespace chorus::ops_internal
