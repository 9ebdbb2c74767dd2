// TransformerBlock: one pre-norm block,
//   h = x + dropout(attn(attn_norm(x)))
//   y = h + dropout(ffn(ffn_norm(h)))
// with the feed-forward sublayer pluggable (feed_forward.h): dense MLP/SwiGLU from the config,
// or whatever TransformerConfig::make_ffn builds (an MoE layer), whose aux loss is passed on.
#pragma once

#include <memory>

#include "core/nn/dropout.h"
#include "core/nn/feed_forward.h"
#include "core/nn/multi_head_attention.h"
#include "core/nn/norm.h"
#include "core/nn/transformer_config.h"

namespace chorus::nn {

struct BlockOutput {
  Tensor y;         // [B, L, D]
  Tensor aux_loss;  // the FFN's, undefined if none
};

class TransformerBlock : public Module {
 public:
  // `layer` is the block's index in its stack (passed to make_ffn).
  TransformerBlock(const TransformerConfig& config, int64_t layer, Generator& gen);

  // x [B, L, D]; ctx as in ForwardContext. Dropout draws two masks per call (attention
  // output, then FFN output) from ctx.gen when active.
  BlockOutput forward(const Tensor& x, const ForwardContext& ctx);

  // state_dict names: attn_norm.*, attn.{q,k,v,o}.*, ffn_norm.*, ffn.*
  std::shared_ptr<Norm> attn_norm;
  std::shared_ptr<MultiHeadAttention> attn;
  std::shared_ptr<Norm> ffn_norm;
  std::shared_ptr<FeedForward> ffn;
  std::shared_ptr<Dropout> dropout;
};

}  // namespace chorus::nn
