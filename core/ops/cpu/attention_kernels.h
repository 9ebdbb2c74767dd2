// Tiled ("flash") scaled dot-product attention on the CPU.
//
// The Lq×Lk score matrix is never materialised: each task takes one block of query rows and
// walks the keys block by block, scoring a tile with one GEMM, folding it into a running
// row max and row sum (online softmax) and accumulating P·V with a second GEMM. Memory is
// O(L·D) plus one tile per thread. The backward pass (FlashAttention-2) recomputes the
// probabilities tile by tile from the saved per-row log-sum-exp.
//
// Masking: `causal` lets query i see keys j <= i (top-left aligned, like PyTorch's is_causal);
// `key_padding` hides keys per batch entry. A query row that sees no key at all gets a zero
// output, a log-sum-exp of +inf and zero gradients (never NaN).
#pragma once

#include <cstdint>

#include "core/tensor/tensor.h"

namespace chorus::cpu {

struct AttentionParams {
  double scale = 1.0;
  bool causal = false;
  // Row-major [batch, lk] bytes, non-zero = the key is padding. Null: no padding.
  const uint8_t* key_padding = nullptr;
};

// q [B,H,Lq,D], k [B,H,Lk,D], v [B,H,Lk,Dv]: f32 or f64 (all the same), any batch/head/row
// strides but rows must be dense (last-dim stride 1, row stride >= the row length).
// out: contiguous [B,H,Lq,Dv]; lse: contiguous [B,H,Lq]; both of that dtype.
void attention_forward(const Tensor& out, const Tensor& lse, const Tensor& q, const Tensor& k,
                       const Tensor& v, const AttentionParams& params);

// Gradients of the forward above given dout (like out, rows dense). dq, dk, dv: contiguous,
// shaped like q, k, v, overwritten.
void attention_backward(const Tensor& dq, const Tensor& dk, const Tensor& dv, const Tensor& q,
                        const Tensor& k, const Tensor& v, const Tensor& out, const Tensor& dout,
                        const Tensor& lse, const AttentionParams& params);

}  // namespace chorus::cpu
