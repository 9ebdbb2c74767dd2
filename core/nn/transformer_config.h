// TransformerConfig: every choice that shapes a pre-norm transformer stack (Transformer,
// TransformerBlock), in one struct that recipes fill in.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "core/nn/feed_forward.h"
#include "core/nn/norm.h"
#include "core/tensor/philox.h"

namespace chorus::nn {

enum class FfnKind {
  kMLP,     // fc2(gelu(fc1(x))), hidden 4·width by default
  kSwiGLU,  // w2(silu(w1 x) ⊙ w3 x), hidden ≈ 8/3·width by default (same parameter count)
};

struct TransformerConfig;

// Builds block `layer`'s feed-forward sublayer, overriding `ffn`: how an MoE layer (or dense
// and MoE layers alternating) is plugged in. Draw initial weights from `gen` only.
using FeedForwardFactory = std::function<std::shared_ptr<FeedForward>(
    const TransformerConfig& config, int64_t layer, Generator& gen)>;

struct TransformerConfig {
  int64_t width = 512;     // model width D; blocks map [B, L, D] to [B, L, D]
  int64_t depth = 6;       // number of blocks
  int64_t n_heads = 8;     // query heads
  int64_t n_kv_heads = 0;  // key/value heads: 0 = n_heads; fewer (dividing n_heads) is GQA
  int64_t head_dim = 0;    // 0 = width / n_heads

  FfnKind ffn = FfnKind::kSwiGLU;
  // FFN hidden width; 0 = 4·width for kMLP, and 8/3·width rounded up to a multiple of 8 for
  // kSwiGLU.
  int64_t ffn_hidden = 0;
  FeedForwardFactory make_ffn;  // when set, builds every block's FFN instead of `ffn`

  NormKind norm = NormKind::kRMSNorm;
  double norm_eps = 1e-5;

  bool causal = true;  // decoder-style masking; false for encoders
  bool rope = true;    // rotary positions in attention; false when the input carries learned
                       // positions (PositionalEmbedding) or none are wanted
  double rope_base = 10000.0;
  bool bias = false;  // biases in attention projections and dense FFNs

  // Dropout on each sublayer's output before the residual add (active in training only;
  // ForwardContext::gen must then be set).
  double dropout = 0.0;
  // Re-run each block's forward during backward instead of keeping its activations (training
  // only): memory per block drops to its input, at the cost of one more forward.
  bool recompute = false;

  // Weights ~ trunc-normal(0, init_std, ±2·init_std), biases 0, norms 1. Projections that
  // write into the residual stream (attention o, FFN output) use init_std / sqrt(2·depth)
  // (GPT-2's scaling) when scale_residual_init is on.
  double init_std = 0.02;
  bool scale_residual_init = true;
  DType dtype = DType::kF32;

  // Resolved values of the 0-means-default fields.
  int64_t kv_heads() const { return n_kv_heads == 0 ? n_heads : n_kv_heads; }
  int64_t resolved_head_dim() const { return head_dim == 0 ? width / n_heads : head_dim; }
  int64_t resolved_ffn_hidden() const;
  double residual_init_std() const;

  // Throws chorus::Error naming the first inconsistent field.
  void validate() const;
};

}  // namespace chorus::nn
