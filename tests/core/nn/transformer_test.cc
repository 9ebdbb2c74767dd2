// TransformerBlock and Transformer: pre-norm wiring against the composition of their
// sublayers, config defaults and validation, residual-scaled init, a pluggable feed-forward
// layer with an aux loss (the MoE hook), dropout, and gradient checks of whole blocks.
#include "core/nn/transformer.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/nn/mlp.h"
#include "core/nn/swiglu.h"
#include "nn_test_util.h"

namespace chorus::nn {
namespace {

using testing::AllClose;
using testing::BitwiseEqual;
using testing::ModuleGradcheck;
using testing::uniform;

constexpr DType kF64 = DType::kF64;

TransformerConfig tiny(bool f64 = true) {
  TransformerConfig c;
  c.width = 8;
  c.depth = 2;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.ffn_hidden = 12;
  c.dtype = f64 ? kF64 : DType::kF32;
  c.init_std = 0.3;  // large enough that every sublayer visibly changes the residual stream
  return c;
}

Tensor pad_mask(int64_t b, int64_t l) {
  std::vector<bool> m(static_cast<size_t>(b * l), false);
  m.back() = true;  // the last key of the last sequence is padding
  return Tensor::from_vector(m, {b, l});
}

// A feed-forward layer with one scale per channel and an aux loss coef·mean(y²), standing in
// for an MoE layer. Counts the forwards that are not recomputation replays.
class ScaleFFN : public FeedForward {
 public:
  ScaleFFN(int64_t dim, double init, double coef) : FeedForward("ScaleFFN"), coef_(coef) {
    scale = register_parameter("scale", Tensor::full({dim}, init, kF64));
  }
  FeedForwardOutput forward(const Tensor& x, const ForwardContext& ctx) override {
    if (!ctx.recomputing) ++counted_forwards;
    ++all_forwards;
    const Tensor y = tanh(mul(x, scale));
    return {y, mul(mean(square(y)), coef_)};
  }
  Tensor scale;
  int counted_forwards = 0, all_forwards = 0;

 private:
  double coef_;
};

TEST(TransformerConfigTest, DefaultsAndValidation) {
  TransformerConfig c;
  c.width = 96;
  c.n_heads = 4;
  EXPECT_EQ(c.kv_heads(), 4);
  EXPECT_EQ(c.resolved_head_dim(), 24);
  EXPECT_EQ(c.resolved_ffn_hidden(), 256);  // ceil(8·96/3) = 256, a multiple of 8
  c.width = 100;
  EXPECT_EQ(c.resolved_ffn_hidden(), 272);  // ceil(800/3) = 267 -> 272
  c.ffn = FfnKind::kMLP;
  EXPECT_EQ(c.resolved_ffn_hidden(), 400);
  c.ffn_hidden = 33;
  EXPECT_EQ(c.resolved_ffn_hidden(), 33);
  c.width = 96;
  c.depth = 8;
  EXPECT_NEAR(c.residual_init_std(), 0.02 / 4.0, 1e-15);
  c.scale_residual_init = false;
  EXPECT_EQ(c.residual_init_std(), 0.02);
  EXPECT_NO_THROW(c.validate());

  auto bad = [](auto edit) {
    TransformerConfig b = tiny();
    edit(b);
    return b;
  };
  EXPECT_THROW(bad([](auto& b) { b.width = 0; }).validate(), Error);
  EXPECT_THROW(bad([](auto& b) { b.n_kv_heads = 3; }).validate(), Error);
  EXPECT_THROW(bad([](auto& b) { b.n_heads = 3; }).validate(), Error);  // 8 / 3
  EXPECT_NO_THROW(bad([](auto& b) {
                    b.n_heads = 3;
                    b.n_kv_heads = 1;
                    b.head_dim = 4;
                  }).validate());
  EXPECT_THROW(bad([](auto& b) { b.head_dim = 3; }).validate(), Error);  // RoPE needs even
  EXPECT_THROW(bad([](auto& b) { b.dropout = 1.5; }).validate(), Error);
  EXPECT_THROW(bad([](auto& b) { b.init_std = 0; }).validate(), Error);
  Generator gen(1);
  EXPECT_THROW(Transformer(bad([](auto& b) { b.n_kv_heads = 3; }), gen), Error);
}

TEST(TransformerBlockTest, PreNormResidualWiring) {
  for (NormKind norm : {NormKind::kRMSNorm, NormKind::kLayerNorm}) {
    for (FfnKind ffn : {FfnKind::kSwiGLU, FfnKind::kMLP}) {
      TransformerConfig c = tiny();
      c.norm = norm;
      c.ffn = ffn;
      Generator gen(2);
      TransformerBlock block(c, 0, gen);
      EXPECT_EQ(block.ffn->type_name(), ffn == FfnKind::kMLP ? "MLP" : "SwiGLU");
      EXPECT_EQ(block.attn_norm->type_name(), norm == NormKind::kRMSNorm ? "RMSNorm" : "LayerNorm");
      ForwardContext ctx;
      ctx.key_padding_mask = pad_mask(2, 5);
      const Tensor x = uniform({2, 5, 8});
      const Tensor h = add(x, block.attn->forward(block.attn_norm->forward(x), ctx));
      const Tensor expected = add(h, block.ffn->forward(block.ffn_norm->forward(h), ctx).y);
      const BlockOutput out = block.forward(x, ctx);
      EXPECT_TRUE(BitwiseEqual(out.y, expected));
      EXPECT_FALSE(out.aux_loss.defined());
      EXPECT_FALSE(AllClose(out.y, x, 1e-3, 0));  // the sublayers did something
    }
  }
}

TEST(TransformerTest, StackIsBlocksThenFinalNorm) {
  Generator gen(3);
  TransformerConfig c = tiny();
  c.depth = 3;
  Transformer model(c, gen);
  ASSERT_EQ(model.depth(), 3);
  ASSERT_EQ(model.blocks->size(), 3u);
  ForwardContext ctx;
  ctx.position_offset = 4;
  const Tensor x = uniform({2, 4, 8});
  Tensor h = x;
  for (int64_t i = 0; i < 3; ++i) h = model.block(i).forward(h, ctx).y;
  const TransformerOutput out = model.forward(x, ctx);
  EXPECT_TRUE(BitwiseEqual(out.y, model.norm->forward(h)));
  EXPECT_FALSE(out.aux_loss.defined());
  EXPECT_THROW(model.forward(uniform({2, 4, 7})), Error);

  TransformerConfig empty = tiny();
  empty.depth = 0;
  Transformer just_norm(empty, gen);
  EXPECT_TRUE(BitwiseEqual(just_norm.forward(x).y, just_norm.norm->forward(x)));
}

TEST(TransformerTest, InitUsesStdAndResidualScaling) {
  TransformerConfig c;
  c.width = 64;
  c.depth = 8;
  c.n_heads = 4;
  Generator gen(4);
  Transformer model(c, gen);
  auto rms = [](const Tensor& t) {
    double s = 0;
    for (double v : t.to_vector<double>()) s += v * v;
    return std::sqrt(s / static_cast<double>(t.numel()));
  };
  const double trunc = 0.8796;  // std of a normal cut at ±2σ, in σ
  const TransformerBlock& b = model.block(5);
  EXPECT_NEAR(rms(b.attn->q->weight), 0.02 * trunc, 0.001);
  EXPECT_NEAR(rms(b.attn->o->weight), 0.02 / 4 * trunc, 0.0003);
  EXPECT_NEAR(rms(static_cast<const SwiGLU&>(*b.ffn).w2->weight), 0.02 / 4 * trunc, 0.0003);
  EXPECT_NEAR(rms(static_cast<const SwiGLU&>(*b.ffn).w3->weight), 0.02 * trunc, 0.001);
  EXPECT_TRUE(AllClose(b.attn_norm->named_parameters()[0].second, Tensor::ones({64})));
  Generator again(4);
  Transformer same(c, again);
  EXPECT_TRUE(BitwiseEqual(same.block(7).attn->v->weight, model.block(7).attn->v->weight));
}

TEST(TransformerTest, PluggableFeedForwardWithAuxLoss) {
  TransformerConfig c = tiny();
  c.depth = 3;
  std::vector<int64_t> layers_built;
  c.make_ffn = [&](const TransformerConfig& cfg, int64_t layer, Generator&) {
    layers_built.push_back(layer);
    return std::make_shared<ScaleFFN>(cfg.width, 0.5 + 0.25 * static_cast<double>(layer), 0.1);
  };
  Generator gen(5);
  Transformer model(c, gen);
  EXPECT_EQ(layers_built, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(model.named_parameters()[6].first, "blocks.0.ffn.scale");
  const Tensor x = uniform({2, 3, 8});
  const TransformerOutput out = model.forward(x);
  ASSERT_TRUE(out.aux_loss.defined());
  // The stack's aux loss is the sum of the blocks' aux losses.
  Tensor h = x;
  double expected = 0;
  for (int64_t i = 0; i < 3; ++i) {
    const BlockOutput b = model.block(i).forward(h, {});
    expected += b.aux_loss.item();
    h = b.y;
  }
  EXPECT_NEAR(out.aux_loss.item(), expected, 1e-14);
  // The aux loss alone sends gradients to the FFN parameters (and, through the residual
  // stream, to earlier blocks).
  out.aux_loss.backward();
  auto& ffn2 = static_cast<ScaleFFN&>(*model.block(2).ffn);
  ASSERT_TRUE(ffn2.scale.grad().defined());
  EXPECT_GT(sum(abs(ffn2.scale.grad())).item(), 0.0);
  ASSERT_TRUE(model.block(0).attn->q->weight.grad().defined());
  EXPECT_FALSE(model.norm->named_parameters()[0].second.grad().defined());  // after the aux
}

TEST(TransformerBlockTest, RejectsAFeedForwardOfTheWrongShape) {
  class Bad : public FeedForward {
   public:
    Bad() : FeedForward("Bad") {}
    FeedForwardOutput forward(const Tensor& x, const ForwardContext&) override {
      return {x.narrow(-1, 0, 2), Tensor()};
    }
  };
  TransformerConfig c = tiny();
  c.make_ffn = [](const TransformerConfig&, int64_t, Generator&) {
    return std::make_shared<Bad>();
  };
  Generator gen(6);
  TransformerBlock block(c, 0, gen);
  EXPECT_THROW(block.forward(uniform({1, 2, 8}), {}), Error);
  c.make_ffn = [](const TransformerConfig&, int64_t, Generator&) {
    return std::shared_ptr<FeedForward>();
  };
  EXPECT_THROW(TransformerBlock(c, 0, gen), Error);
}

TEST(TransformerBlockTest, DropoutDrawsInTrainingOnly) {
  TransformerConfig c = tiny();
  c.dropout = 0.2;
  Generator gen(7);
  TransformerBlock block(c, 0, gen);
  const Tensor x = uniform({2, 4, 8});
  ForwardContext ctx;
  EXPECT_THROW(block.forward(x, ctx), Error);  // training with dropout needs a generator
  Generator a(11), b(11);
  ctx.gen = &a;
  const Tensor ya = block.forward(x, ctx).y;
  EXPECT_EQ(a.offset(), 2 * ((2u * 4u * 8u + 3) / 4));  // two masks of 64 elements
  ctx.gen = &b;
  EXPECT_TRUE(BitwiseEqual(ya, block.forward(x, ctx).y));
  block.eval();
  ctx.gen = nullptr;
  const Tensor ye = block.forward(x, ctx).y;
  EXPECT_FALSE(AllClose(ya, ye, 1e-6, 0));
  block.dropout->train();  // only the dropout child back in training: the masks return
  ctx.gen = &a;
  EXPECT_FALSE(AllClose(block.forward(x, ctx).y, ye, 1e-6, 0));
}

TEST(TransformerBlockTest, GradcheckRMSNormSwiGLU) {
  TransformerConfig c = tiny();
  c.width = 4;
  c.n_heads = 2;
  c.n_kv_heads = 1;
  c.ffn_hidden = 6;
  c.bias = true;
  Generator gen(8);
  TransformerBlock block(c, 0, gen);
  ForwardContext ctx;
  ctx.key_padding_mask = pad_mask(2, 3);
  const Tensor x = uniform({2, 3, 4}).set_requires_grad(true);
  EXPECT_TRUE(ModuleGradcheck(block, [&] { return block.forward(x, ctx).y; }, {x}));
}

TEST(TransformerBlockTest, GradcheckLayerNormMLPBidirectionalWithAux) {
  TransformerConfig c = tiny();
  c.width = 4;
  c.n_heads = 2;
  c.ffn = FfnKind::kMLP;
  c.ffn_hidden = 5;
  c.norm = NormKind::kLayerNorm;
  c.causal = false;
  c.rope = false;
  Generator gen(9);
  TransformerBlock block(c, 0, gen);
  const Tensor x = uniform({2, 3, 4}).set_requires_grad(true);
  EXPECT_TRUE(ModuleGradcheck(block, [&] { return block.forward(x, {}).y; }, {x}));

  c.make_ffn = [](const TransformerConfig& cfg, int64_t, Generator&) {
    return std::make_shared<ScaleFFN>(cfg.width, 0.7, 0.3);
  };
  TransformerBlock moe_like(c, 0, gen);
  EXPECT_TRUE(ModuleGradcheck(moe_like,
                              [&] {
                                const BlockOutput o = moe_like.forward(x, {});
                                return add(sum(o.y),
                                           o.aux_loss);  // the aux loss is differentiable too
                              },
                              {x}));
}

}  // namespace
}  // namespace chorus::nn
