#include "core/nn/transformer_block.h"

#include "core/nn/mlp.h"
#include "core/nn/swiglu.h"
#include "core/ops/elementwise.h"

namespace chorus::nn {
namespace {

std::shared_ptr<FeedForward> dense_ffn(const TransformerConfig& c, Generator& gen) {
  const int64_t hidden = c.resolved_ffn_hidden();
  if (c.ffn == FfnKind::kMLP) {
    MLPOptions o;
    o.bias = c.bias;
    o.init_std = c.init_std;
    o.out_init_std = c.residual_init_std();
    o.dtype = c.dtype;
    return std::make_shared<MLP>(c.width, hidden, gen, o);
  }
  SwiGLUOptions o;
  o.bias = c.bias;
  o.init_std = c.init_std;
  o.out_init_std = c.residual_init_std();
  o.dtype = c.dtype;
  return std::make_shared<SwiGLU>(c.width, hidden, gen, o);
}

}  // namespace

TransformerBlock::TransformerBlock(const TransformerConfig& config, int64_t layer, Generator& gen)
    : Module("TransformerBlock") {
  config.validate();
  AttentionConfig a;
  a.dim = config.width;
  a.n_heads = config.n_heads;
  a.n_kv_heads = config.n_kv_heads;
  a.head_dim = config.head_dim;
  a.causal = config.causal;
  a.rope = config.rope;
  a.rope_base = config.rope_base;
  a.bias = config.bias;
  a.init_std = config.init_std;
  a.out_init_std = config.residual_init_std();
  a.dtype = config.dtype;
  attn_norm = register_module("attn_norm",
                              make_norm(config.norm, config.width, config.norm_eps, config.dtype));
  attn = register_module("attn", std::make_shared<MultiHeadAttention>(a, gen));
  ffn_norm = register_module("ffn_norm",
                             make_norm(config.norm, config.width, config.norm_eps, config.dtype));
  std::shared_ptr<FeedForward> f =
      config.make_ffn ? config.make_ffn(config, layer, gen) : dense_ffn(config, gen);
  CHORUS_CHECK(f != nullptr, "TransformerBlock ", layer, ": make_ffn returned null");
  ffn = register_module("ffn", f);
  dropout = register_module("dropout", std::make_shared<Dropout>(config.dropout));
}

BlockOutput TransformerBlock::forward(const Tensor& x, const ForwardContext& ctx) {
  const Tensor h = add(x, dropout->forward(attn->forward(attn_norm->forward(x), ctx), ctx.gen));
  FeedForwardOutput f = ffn->forward(ffn_norm->forward(h), ctx);
  CHORUS_CHECK(f.y.defined() && f.y.shape() == h.shape(), "TransformerBlock: ", ffn->type_name(),
               " returned ", f.y.defined() ? shape_str(f.y.shape()) : "nothing", " for input ",
               shape_str(h.shape()));
  return {add(h, dropout->forward(f.y, ctx.gen)), f.aux_loss};
}

}  // namespace chorus::nn
