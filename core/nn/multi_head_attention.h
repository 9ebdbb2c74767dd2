// Multi-head self-attention with grouped-query attention, causal or bidirectional masking,
// key padding and optional rotary positions, on top of the tiled
// scaled_dot_product_attention op.
//
//   q = x·Wqᵀ -> [B, H, L, hd],  k, v = x·Wkᵀ, x·Wvᵀ -> [B, Hkv, L, hd]
//   (RoPE on q and k), each kv head serves H / Hkv consecutive query heads,
//   y = concat_heads(softmax(q·kᵀ/sqrt(hd) + mask)·v)·Woᵀ
//
// Hkv = H is standard multi-head attention, 1 < Hkv < H grouped-query (Ainslie et al. 2023),
// Hkv = 1 multi-query. Learned absolute positions are added at the model input, not here.
// There is no dropout on attention probabilities (the tiled kernel never forms them);
// transformer blocks apply dropout to the sublayer output instead.
#pragma once

#include <memory>
#include <optional>

#include "core/nn/context.h"
#include "core/nn/linear.h"

namespace chorus::nn {

struct AttentionConfig {
  int64_t dim = 0;         // model width D
  int64_t n_heads = 0;     // H
  int64_t n_kv_heads = 0;  // Hkv; 0 means H. Must divide H.
  int64_t head_dim = 0;    // hd; 0 means D / H (which must then divide evenly)
  bool causal = false;     // query i sees keys j <= i
  bool rope = false;       // rotate q and k by ForwardContext positions
  double rope_base = 10000.0;
  bool bias = false;  // biases on the four projections
  // As in LinearOptions; out_init_std (default init_std) is for the output projection.
  std::optional<double> init_std;
  std::optional<double> out_init_std;
  DType dtype = DType::kF32;
};

class MultiHeadAttention : public Module {
 public:
  MultiHeadAttention(const AttentionConfig& config, Generator& gen);

  // x [B, L, D] -> [B, L, D]. Uses ctx.key_padding_mask (bool [B, L]) and, with RoPE,
  // ctx.positions / ctx.position_offset.
  Tensor forward(const Tensor& x, const ForwardContext& ctx = {}) const;

  int64_t n_heads() const { return n_heads_; }
  int64_t n_kv_heads() const { return n_kv_heads_; }
  int64_t head_dim() const { return head_dim_; }

  // state_dict names q.weight, k.weight, v.weight, o.weight.
  std::shared_ptr<Linear> q, k, v, o;

 private:
  // [B, L, heads·hd] projection -> [B, heads, L, hd] (a permuted view), RoPE applied.
  Tensor split_heads(const Tensor& projected, int64_t heads, bool rotate,
                     const ForwardContext& ctx) const;

  AttentionConfig config_;
  int64_t n_heads_, n_kv_heads_, head_dim_;
};

}  // namespace chorus::nn
