#include "core/nn/causal_lm.h"

#include "core/ops/loss.h"

namespace chorus::nn {

CausalLM::CausalLM(int64_t vocab, const TransformerConfig& config, Generator& gen)
    : Module("CausalLM") {
  CHORUS_CHECK(config.causal, "CausalLM needs a causal transformer config");
  embed = register_module(
      "embed", std::make_shared<Embedding>(
                   vocab, config.width, gen,
                   EmbeddingOptions{.init_std = config.init_std, .dtype = config.dtype}));
  transformer = register_module("transformer", std::make_shared<Transformer>(config, gen));
  head = register_module("head", std::make_shared<Linear>(config.width, vocab, gen,
                                                          LinearOptions{.bias = false,
                                                                        .init_std = config.init_std,
                                                                        .dtype = config.dtype}));
}

CausalLMOutput CausalLM::forward(const Tensor& tokens, const Tensor& targets,
                                 const ForwardContext& ctx) {
  CHORUS_CHECK(tokens.dim() == 2, "CausalLM: tokens must be [B, L], got ", tokens.ToString());
  TransformerOutput t = transformer->forward(embed->forward(tokens), ctx);
  CausalLMOutput out;
  out.logits = head->forward(t.y);
  out.aux_loss = t.aux_loss;
  if (targets.defined()) {
    CHORUS_CHECK(targets.shape() == tokens.shape(), "CausalLM: targets ", targets.ToString(),
                 " do not match tokens ", tokens.ToString());
    const int64_t vocab = out.logits.size(-1);
    out.loss = cross_entropy(out.logits.reshape({-1, vocab}), targets.reshape({-1}));
  }
  return out;
}

}  // namespace chorus::nn
