// Scaled dot-product attention, computed tile by tile (flash-attention style) so that memory
// stays O(L·D): the [Lq, Lk] score matrix is never allocated, in forward or backward.
#pragma once

#include <optional>

#include "core/tensor/tensor.h"

namespace chorus {

struct AttentionOptions {
  // Query i attends to keys j <= i (top-left aligned, like PyTorch's is_causal, also when
  // Lq != Lk).
  bool causal = false;
  // Optional bool [B, Lk]; true marks a padding key that no query attends to.
  Tensor key_padding_mask;
  // Multiplies q·kᵀ; 1/sqrt(D) when unset.
  std::optional<double> scale;
};

// softmax(q·kᵀ·scale + mask)·v for q [B, H, Lq, D], k [B, H, Lk, D], v [B, H, Lk, Dv]
// -> [B, H, Lq, Dv]. Differentiable in q, k and v.
//
// A query row whose keys are all masked (every key padded, or causal with all of its visible
// keys padded) outputs zeros and passes zero gradient, where a plain softmax would give NaN.
//
// Any layout whose rows are dense is read in place: q, k, v may be permuted views of
// [B, L, H, D] projections. f32 and f64 compute natively; bf16/f16 in f32, rounded once.
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const AttentionOptions& options = {});

}  // namespace chorus
