// FP8 matrix product for quantised layers: out = (a · bᵀ) · scale_a · scale_b.
//
// a [M, K] and b [N, K] hold f8e4m3 (or f8e5m2) codes, each with a per-tensor f32 scale (the
// dequantisation factor, a 0-dim tensor); out is bf16, f16 or f32. b is given row-major as
// [N, K] — the weight layout of linear and the "TN" layout that Hopper's FP8 tensor cores need —
// so a quantised linear layer is fp8_matmul(x_q, w_q, sx, sw). On CUDA this is one cuBLASLt FP8
// GEMM (f32 accumulation) — which cuBLASLt still refuses on the H200 (NOT_SUPPORTED, see
// docs/gpu-benchmarks.md); on the CPU a reference loop in f32. Not differentiable.
#pragma once

#include "core/tensor/tensor.h"

namespace chorus {

Tensor fp8_matmul(const Tensor& a, const Tensor& b, const Tensor& scale_a, const Tensor& scale_b,
                  DType out_dtype = DType::kBF16);

namespace cpu {
// The kernel slot behind fp8_matmul (all arguments contiguous, checked by the front-end).
void fp8_matmul_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Tensor& scale_a,
                       const Tensor& scale_b);
}  // namespace cpu

}  // namespace chorus
