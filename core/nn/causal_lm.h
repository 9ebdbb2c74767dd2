// CausalLM: a decoder-only language model — token embedding, the Transformer stack (dense or
// MoE feed-forward layers, per TransformerConfig) and a linear head over the vocabulary.
// state_dict names: embed.weight, transformer.blocks.<i>.*, transformer.norm.*, head.weight.
#pragma once

#include <memory>

#include "core/nn/embedding.h"
#include "core/nn/linear.h"
#include "core/nn/transformer.h"

namespace chorus::nn {

struct CausalLMOutput {
  Tensor logits;    // [B, L, vocab]
  Tensor loss;      // next-token cross-entropy (mean over positions) when targets are given
  Tensor aux_loss;  // the MoE layers' balancing losses, undefined for dense models
};

class CausalLM : public Module {
 public:
  // config.causal must be true.
  CausalLM(int64_t vocab, const TransformerConfig& config, Generator& gen);

  // tokens i64 [B, L]; targets i64 [B, L] (optional) are the next tokens.
  CausalLMOutput forward(const Tensor& tokens, const Tensor& targets = Tensor(),
                         const ForwardContext& ctx = {});

  std::shared_ptr<Embedding> embed;
  std::shared_ptr<Transformer> transformer;
  std::shared_ptr<Linear> head;
};

}  // namespace chorus::nn
