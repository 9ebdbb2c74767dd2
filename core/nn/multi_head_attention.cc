#include "core/nn/multi_head_attention.h"

#include "core/nn/rope.h"
#include "core/ops/attention.h"

namespace chorus::nn {

MultiHeadAttention::MultiHeadAttention(const AttentionConfig& config, Generator& gen)
    : Module("MultiHeadAttention"), config_(config) {
  CHORUS_CHECK(config.dim > 0 && config.n_heads > 0, "MultiHeadAttention: needs dim > 0 and ",
               "n_heads > 0, got dim ", config.dim, ", n_heads ", config.n_heads);
  n_heads_ = config.n_heads;
  n_kv_heads_ = config.n_kv_heads == 0 ? config.n_heads : config.n_kv_heads;
  CHORUS_CHECK(n_kv_heads_ > 0 && n_heads_ % n_kv_heads_ == 0, "MultiHeadAttention: n_kv_heads ",
               n_kv_heads_, " must divide n_heads ", n_heads_);
  if (config.head_dim > 0) {
    head_dim_ = config.head_dim;
  } else {
    CHORUS_CHECK(config.dim % n_heads_ == 0, "MultiHeadAttention: dim ", config.dim,
                 " is not divisible by n_heads ", n_heads_, "; set head_dim");
    head_dim_ = config.dim / n_heads_;
  }
  CHORUS_CHECK(!config.rope || head_dim_ % 2 == 0, "MultiHeadAttention: RoPE needs an even ",
               "head_dim, got ", head_dim_);
  const LinearOptions in{config.bias, config.init_std, config.dtype};
  const LinearOptions out{config.bias, config.out_init_std ? config.out_init_std : config.init_std,
                          config.dtype};
  q = register_module("q", std::make_shared<Linear>(config.dim, n_heads_ * head_dim_, gen, in));
  k = register_module("k", std::make_shared<Linear>(config.dim, n_kv_heads_ * head_dim_, gen, in));
  v = register_module("v", std::make_shared<Linear>(config.dim, n_kv_heads_ * head_dim_, gen, in));
  o = register_module("o", std::make_shared<Linear>(n_heads_ * head_dim_, config.dim, gen, out));
}

Tensor MultiHeadAttention::split_heads(const Tensor& projected, int64_t heads, bool rotate,
                                       const ForwardContext& ctx) const {
  const int64_t b = projected.size(0), l = projected.size(1);
  // The attention kernel reads [B, L, H, hd] memory permuted to [B, H, L, hd] in place.
  Tensor t = projected.view({b, l, heads, head_dim_}).permute({0, 2, 1, 3});
  if (!rotate) return t;
  return ctx.positions.defined() ? apply_rope(t, ctx.positions, config_.rope_base)
                                 : apply_rope(t, ctx.position_offset, config_.rope_base);
}

Tensor MultiHeadAttention::forward(const Tensor& x, const ForwardContext& ctx) const {
  CHORUS_CHECK(x.dim() == 3 && x.size(2) == config_.dim, "MultiHeadAttention(dim ", config_.dim,
               "): input must be [B, L, ", config_.dim, "], got ", shape_str(x.shape()));
  const int64_t b = x.size(0), l = x.size(1);
  const Tensor qh = split_heads(q->forward(x), n_heads_, config_.rope, ctx);
  Tensor kh = split_heads(k->forward(x), n_kv_heads_, config_.rope, ctx);
  Tensor vh = split_heads(v->forward(x), n_kv_heads_, false, ctx);
  if (n_kv_heads_ != n_heads_) {
    // Grouped-query: kv head g serves query heads g·r .. g·r + r − 1 (r = H / Hkv), as in
    // LLaMA's repeat_kv. Expanding then flattening the group dim materialises the copies; the
    // expand's backward sums the r gradients back onto each kv head.
    const int64_t r = n_heads_ / n_kv_heads_;
    auto repeat = [&](const Tensor& t) {
      return t.unsqueeze(2)
          .expand({b, n_kv_heads_, r, l, head_dim_})
          .reshape({b, n_heads_, l, head_dim_});
    };
    kh = repeat(kh);
    vh = repeat(vh);
  }
  AttentionOptions options;
  options.causal = config_.causal;
  options.key_padding_mask = ctx.key_padding_mask;
  const Tensor attn = scaled_dot_product_attention(qh, kh, vh, options);
  return o->forward(attn.permute({0, 2, 1, 3}).reshape({b, l, n_heads_ * head_dim_}));
}

}  // namespace chorus::nn
