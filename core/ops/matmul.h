// Matrix products: matmul (PyTorch semantics), bmm and linear. All are differentiable.
//
// Dtypes: both operands must share one floating dtype; f32 computes with sgemm, f64 with
// dgemm, bf16/f16 are widened to f32 and the result rounded back once. Transposed views
// (x.t(), x.transpose(-1, -2)) are passed to BLAS as transposes, never copied.
#pragma once

#include "core/tensor/tensor.h"

namespace chorus {

// Like torch.matmul:
//   1-D · 1-D       -> dot product, a 0-dim tensor
//   2-D · 2-D       -> matrix product
//   1-D · N-D       -> the vector is a [1, K] matrix; that dim is removed from the result
//   N-D · 1-D       -> the vector is a [K, 1] matrix; that dim is removed from the result
//   N-D · M-D       -> batched product; the batch dims (all but the last two) broadcast
Tensor matmul(const Tensor& a, const Tensor& b);

// Batched product of [B, n, k] and [B, k, m] (3-D only, no broadcasting, like torch.bmm).
Tensor bmm(const Tensor& a, const Tensor& b);

// x[..., in] · weight[out, in]ᵀ + bias[out] -> [..., out]. bias may be undefined. The bias is
// fused into the GEMM (the output starts as the bias and the product is added to it).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace chorus
