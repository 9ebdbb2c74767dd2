// Transformer: a stack of pre-norm blocks and a final norm, [B, L, D] -> [B, L, D]. Token
// embeddings, learned positions and output heads live outside it, so the same stack serves
// text, fused multimodal tokens and encoders alike.
//
// With config.recompute on, training-mode forward passes keep only each block's input and
// re-run the block during backward (recompute.h), replaying the same dropout masks from a
// copy of ctx.gen's state; results and gradients equal those of a plain run.
#pragma once

#include <memory>

#include "core/nn/module_list.h"
#include "core/nn/norm.h"
#include "core/nn/transformer_block.h"
#include "core/nn/transformer_config.h"

namespace chorus::nn {

struct TransformerOutput {
  Tensor y;         // [B, L, D], after the final norm
  Tensor aux_loss;  // sum of the blocks' aux losses (0-dim), undefined if no block has one
};

class Transformer : public Module {
 public:
  Transformer(const TransformerConfig& config, Generator& gen);

  TransformerOutput forward(const Tensor& x, const ForwardContext& ctx = {});

  const TransformerConfig& config() const { return config_; }
  int64_t depth() const { return static_cast<int64_t>(blocks_.size()); }
  TransformerBlock& block(int64_t i) const { return *blocks_.at(static_cast<size_t>(i)); }

  // state_dict names: blocks.<i>.*, norm.*
  std::shared_ptr<ModuleList> blocks;
  std::shared_ptr<Norm> norm;

 private:
  BlockOutput run_block(const std::shared_ptr<TransformerBlock>& block, const Tensor& x,
                        const ForwardContext& ctx);

  TransformerConfig config_;
  std::vector<std::shared_ptr<TransformerBlock>> blocks_;
};

}  // namespace chorus::nn
