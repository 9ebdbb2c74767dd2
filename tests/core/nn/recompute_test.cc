// Activation recomputation and determinism: a Transformer trained with recompute gives the
// same outputs and gradients as without (with dropout, GQA, padding and an aux-loss FFN),
// replays run once per block and see ForwardContext::recomputing, parameter-only graphs still
// get gradients, activations are not kept, and two runs with the same seeds are bitwise equal.
#include "core/nn/recompute.h"

#include <gtest/gtest.h>

#include "core/autograd/node.h"
#include "core/nn/swiglu.h"
#include "core/nn/transformer.h"
#include "core/ops/dropout.h"
#include "core/ops/matmul.h"
#include "core/tensor/allocator.h"
#include "nn_test_util.h"

namespace chorus::nn {
namespace {

using testing::AllClose;
using testing::BitwiseEqual;
using testing::uniform;

// Stands in for an MoE layer: a differentiable aux loss and a counter that must count each
// batch once even when the block is replayed.
class CountingFFN : public FeedForward {
 public:
  CountingFFN(int64_t dim, int64_t hidden, Generator& gen, DType dtype)
      : FeedForward("CountingFFN") {
    inner = register_module(
        "inner",
        std::make_shared<SwiGLU>(dim, hidden, gen, SwiGLUOptions{.init_std = 0.3, .dtype = dtype}));
  }
  FeedForwardOutput forward(const Tensor& x, const ForwardContext& ctx) override {
    if (!ctx.recomputing) ++batches_seen;
    ++calls;
    const Tensor y = inner->forward(x);
    return {y, mul(mean(square(y)), 0.01)};
  }
  std::shared_ptr<SwiGLU> inner;
  int batches_seen = 0, calls = 0;
};

struct StepResult {
  Tensor y, aux, x_grad;
  NamedTensors grads;
};

TransformerConfig config(bool recompute, DType dtype, bool counting_ffn) {
  TransformerConfig c;
  c.width = 16;
  c.depth = 3;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.ffn_hidden = 24;
  c.dropout = 0.25;
  c.recompute = recompute;
  c.init_std = 0.2;
  c.dtype = dtype;
  if (counting_ffn) {
    c.make_ffn = [](const TransformerConfig& cfg, int64_t, Generator& gen) {
      return std::make_shared<CountingFFN>(cfg.width, cfg.ffn_hidden, gen, cfg.dtype);
    };
  }
  return c;
}

// Builds a model from `init_seed`, runs forward + backward with dropout from `drop_seed`.
StepResult train_step(const TransformerConfig& c, uint64_t init_seed, uint64_t drop_seed,
                      Transformer** keep = nullptr) {
  Generator init_gen(init_seed);
  static thread_local std::unique_ptr<Transformer> model;
  model = std::make_unique<Transformer>(c, init_gen);
  Generator drop(drop_seed);
  ForwardContext ctx;
  ctx.gen = &drop;
  std::vector<bool> pad(2 * 6, false);
  pad[11] = pad[10] = true;
  ctx.key_padding_mask = Tensor::from_vector(pad, {2, 6});
  const Tensor x = uniform({2, 6, 16}, -1, 1, c.dtype, 3).set_requires_grad(true);
  const TransformerOutput out = model->forward(x, ctx);
  const Tensor w = uniform({2, 6, 16}, -1, 1, c.dtype, 4);
  Tensor loss = sum(mul(out.y, w));
  if (out.aux_loss.defined()) loss = add(loss, out.aux_loss);
  loss.backward();
  StepResult r{out.y, out.aux_loss, x.grad(), {}};
  for (const auto& [n, p] : model->named_parameters()) r.grads.emplace_back(n, p.grad());
  if (keep) *keep = model.get();
  return r;
}

void expect_same(const StepResult& a, const StepResult& b, bool bitwise) {
  auto same = [&](const Tensor& x, const Tensor& y) {
    return bitwise ? BitwiseEqual(x, y) : AllClose(x, y, 1e-12, 1e-10);
  };
  EXPECT_TRUE(same(a.y, b.y));
  EXPECT_TRUE(same(a.aux, b.aux));
  EXPECT_TRUE(same(a.x_grad, b.x_grad));
  ASSERT_EQ(a.grads.size(), b.grads.size());
  for (size_t i = 0; i < a.grads.size(); ++i) {
    ASSERT_TRUE(a.grads[i].second.defined()) << a.grads[i].first;
    EXPECT_TRUE(same(a.grads[i].second, b.grads[i].second)) << a.grads[i].first;
  }
}

TEST(RecomputeTest, GradientsEqualThoseWithoutRecompute) {
  for (DType dtype : {DType::kF32, DType::kF64}) {
    const StepResult plain = train_step(config(false, dtype, false), 1, 7);
    const StepResult re = train_step(config(true, dtype, false), 1, 7);
    // Same kernels on the same values in the same order: bit for bit.
    expect_same(plain, re, /*bitwise=*/true);
  }
}

TEST(RecomputeTest, AuxLossesAndRunningStateWithAnMoELikeFFN) {
  Transformer* model = nullptr;
  const StepResult plain = train_step(config(false, DType::kF64, true), 2, 9);
  const StepResult re = train_step(config(true, DType::kF64, true), 2, 9, &model);
  ASSERT_TRUE(re.aux.defined());
  expect_same(plain, re, /*bitwise=*/true);
  for (int64_t i = 0; i < model->depth(); ++i) {
    auto& ffn = static_cast<CountingFFN&>(*model->block(i).ffn);
    EXPECT_EQ(ffn.calls, 2);         // the forward and one replay during backward
    EXPECT_EQ(ffn.batches_seen, 1);  // the replay knows it is one
  }
}

TEST(RecomputeTest, DropoutMasksReplayed) {
  // Different dropout seeds must change the result (so the equality above is not vacuous),
  // and the replay must not advance the caller's generator.
  const StepResult a = train_step(config(true, DType::kF64, false), 1, 7);
  const StepResult b = train_step(config(true, DType::kF64, false), 1, 8);
  EXPECT_FALSE(AllClose(a.y, b.y, 1e-6, 0));

  TransformerConfig c = config(true, DType::kF64, false);
  Generator init(1), with(5);
  Transformer model(c, init);
  const Tensor x = uniform({2, 6, 16}).set_requires_grad(true);
  ForwardContext ctx;
  ctx.gen = &with;
  const TransformerOutput out = model.forward(x, ctx);
  const uint64_t after_forward = with.offset();
  EXPECT_EQ(after_forward, 3u * 2u * ((2u * 6u * 16u + 3) / 4));  // 2 masks per block
  sum(out.y).backward();
  EXPECT_EQ(with.offset(), after_forward);
}

// Whether the final norm's input came from a recompute node.
bool stack_recomputed(const TransformerOutput& out) {
  if (!out.y.grad_fn()) return false;
  for (const autograd::Edge& e : out.y.grad_fn()->next_edges) {
    if (e.node && e.node->name() == "recompute") return true;
  }
  return false;
}

TEST(RecomputeTest, UsedOnlyWhenTrainingWithGrad) {
  TransformerConfig c = config(true, DType::kF64, false);
  c.dropout = 0.0;
  Generator gen(3);
  Transformer model(c, gen);
  const Tensor x = uniform({1, 4, 16}).set_requires_grad(true);
  const TransformerOutput out = model.forward(x);
  EXPECT_TRUE(stack_recomputed(out));
  model.eval();
  const TransformerOutput eval_out = model.forward(x);
  EXPECT_FALSE(stack_recomputed(eval_out));
  EXPECT_TRUE(eval_out.y.requires_grad());         // eval still records a normal graph
  EXPECT_TRUE(AllClose(out.y, eval_out.y, 0, 0));  // no dropout: same values either way
  model.train();
  {
    autograd::NoGradGuard no_grad;
    EXPECT_FALSE(model.forward(x).y.requires_grad());
  }
  c.recompute = false;
  Generator g2(3);
  EXPECT_FALSE(stack_recomputed(Transformer(c, g2).forward(x)));
}

TEST(RecomputeTest, ParametersGetGradientsWhenTheInputDoesNot) {
  // PyTorch's reentrant checkpoint drops parameter gradients when no input requires grad;
  // listing the parameters as node inputs avoids that.
  TransformerConfig c = config(true, DType::kF64, false);
  c.dropout = 0.0;
  TransformerConfig p = c;
  p.recompute = false;
  Generator g1(4), g2(4);
  Transformer re(c, g1), plain(p, g2);
  const Tensor x = uniform({2, 3, 16});  // no grad
  sum(re.forward(x).y).backward();
  sum(plain.forward(x).y).backward();
  const auto a = re.named_parameters(), b = plain.named_parameters();
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_TRUE(a[i].second.grad().defined()) << a[i].first;
    EXPECT_TRUE(BitwiseEqual(a[i].second.grad(), b[i].second.grad())) << a[i].first;
  }
}

TEST(RecomputeTest, RetainGraphReplaysAgain) {
  TransformerConfig c = config(true, DType::kF64, false);
  TransformerConfig p = c;
  p.recompute = false;
  Generator g1(6), g2(6), d1(2), d2(2);
  Transformer re(c, g1), plain(p, g2);
  const Tensor x = uniform({2, 3, 16});
  ForwardContext c1, c2;
  c1.gen = &d1;
  c2.gen = &d2;
  const Tensor l1 = sum(re.forward(x, c1).y), l2 = sum(plain.forward(x, c2).y);
  l1.backward(Tensor(), /*retain_graph=*/true);
  l1.backward();
  l2.backward(Tensor(), true);
  l2.backward();
  EXPECT_TRUE(
      BitwiseEqual(re.block(0).attn->q->weight.grad(), plain.block(0).attn->q->weight.grad()));
}

TEST(RecomputeTest, GenericSegmentWithDropout) {
  // recompute() on its own: y = dropout(x·w) with the generator replay pattern of
  // recompute.h, against the same computation recorded normally.
  const Tensor w0 = uniform({8, 8}, -1, 1, DType::kF64, 1);
  const Tensor x0 = uniform({4, 8}, -1, 1, DType::kF64, 2);
  auto run = [&](bool use_recompute) {
    const Tensor w = w0.clone().set_requires_grad(true), x = x0.clone().set_requires_grad(true);
    Generator gen(13);
    const Generator start = gen;
    Tensor y;
    if (use_recompute) {
      y = recompute(
          [w, &gen, start](const std::vector<Tensor>& in, bool recomputing) {
            Generator replay = start;
            return std::vector<Tensor>{
                dropout(matmul(in[0], w), 0.5, true, recomputing ? replay : gen)};
          },
          {x}, {w})[0];
      EXPECT_EQ(y.grad_fn()->name(), "recompute");
    } else {
      y = dropout(matmul(x, w), 0.5, true, gen);
    }
    sum(mul(y, y)).backward();
    return std::vector<Tensor>{y, x.grad(), w.grad()};
  };
  const auto a = run(false), b = run(true);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(BitwiseEqual(a[i], b[i])) << i;
}

TEST(RecomputeTest, UndefinedAndIntegerOutputsPassThrough) {
  const Tensor x = uniform({3}).set_requires_grad(true);
  const auto out = recompute(
      [](const std::vector<Tensor>& in, bool) {
        return std::vector<Tensor>{mul(in[0], 2.0), Tensor(), Tensor::arange(0, 3)};
      },
      {x}, {});
  EXPECT_FALSE(out[1].defined());
  EXPECT_EQ(out[2].dtype(), DType::kI64);
  sum(out[0]).backward();
  EXPECT_TRUE(AllClose(x.grad(), Tensor::full({3}, 2.0, DType::kF64)));
}

TEST(RecomputeTest, KeepsOnlyBlockInputs) {
  // Live memory after the forward pass (the graph holds what backward needs): with recompute
  // only each block's input survives, without it every block's activations do.
  TransformerConfig c = config(false, DType::kF32, false);
  c.dropout = 0.0;
  c.width = 64;
  c.ffn_hidden = 256;
  c.depth = 4;
  const Tensor x = uniform({2, 64, 64}, -1, 1, DType::kF32).set_requires_grad(true);
  Allocator& alloc = allocator_for(Device::cpu());
  auto live_after_forward = [&](bool recompute_on) {
    TransformerConfig cc = c;
    cc.recompute = recompute_on;
    Generator gen(1);
    Transformer model(cc, gen);
    const int64_t before = alloc.stats().current_bytes;
    const TransformerOutput out = model.forward(x);
    const int64_t live = alloc.stats().current_bytes - before;
    sum(out.y).backward();
    return live;
  };
  const int64_t plain = live_after_forward(false), re = live_after_forward(true);
  const int64_t activation = 2 * 64 * 64 * 4;  // one [2, 64, 64] f32 tensor
  EXPECT_LT(re, 10 * activation) << "recompute kept " << re << " bytes";
  EXPECT_GT(plain, 4 * re) << "plain " << plain << ", recompute " << re;
}

TEST(DeterminismTest, SameSeedsGiveBitwiseIdenticalRuns) {
  for (bool re : {false, true}) {
    const StepResult a = train_step(config(re, DType::kF32, true), 21, 5);
    const StepResult b = train_step(config(re, DType::kF32, true), 21, 5);
    expect_same(a, b, /*bitwise=*/true);
    const StepResult other = train_step(config(re, DType::kF32, true), 22, 5);
    EXPECT_FALSE(AllClose(a.y, other.y, 1e-6, 0));  // the init seed matters
  }
}

}  // namespace
}  // namespace chorus::nn
