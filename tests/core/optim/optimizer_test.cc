// Optimizer base behaviour: parameter groups and the weight-decay split, skipped parameters,
// per-parameter step counts, zero_grad, learning rates, and misuse.
#include <gtest/gtest.h>

#include "core/optim/adamw.h"
#include "core/optim/sgd.h"
#include "optim_test_util.h"
#include "test_util.h"

namespace chorus::optim {
namespace {

using testing::SameBits;
using testing::TinyBlock;

std::vector<std::string> names(const NamedTensors& ts) {
  std::vector<std::string> out;
  for (const auto& [n, _] : ts) out.push_back(n);
  return out;
}

TEST(Optimizer, DecaySplitByRankAndName) {
  TinyBlock m;
  const DecaySplit split = split_by_decay(m);
  // Rank <= 1 (bias, norm_scale) and names "bias", "bias_*", "*_bias" (experts_bias is rank 2
  // but is a bias) get no decay; the frozen parameter is left out.
  EXPECT_EQ(names(split.decay), (std::vector<std::string>{"proj_weight", "experts_w1"}));
  EXPECT_EQ(names(split.no_decay),
            (std::vector<std::string>{"bias", "norm_scale", "experts_bias"}));
  EXPECT_TRUE(default_no_decay("blocks.0.attn.q.bias", Tensor::zeros({3, 3})));
  EXPECT_TRUE(default_no_decay("blocks.0.moe.bias_up", Tensor::zeros({3, 3})));
  EXPECT_TRUE(default_no_decay("blocks.0.moe.experts_bias", Tensor::zeros({3, 3})));
  EXPECT_FALSE(default_no_decay("blocks.0.moe.biased_w", Tensor::zeros({3, 3})));
  EXPECT_FALSE(default_no_decay("blocks.0.bias.weight", Tensor::zeros({3, 3})));
  EXPECT_TRUE(default_no_decay("ln.weight", Tensor::zeros({3})));
  // A custom rule replaces the default.
  const DecaySplit all = split_by_decay(m, [](const std::string&, const Tensor&) { return false; });
  EXPECT_EQ(all.decay.size(), 5u);
  EXPECT_TRUE(all.no_decay.empty());
}

class TiedModule : public nn::Module {
 public:
  TiedModule() : Module("Tied") {
    w = register_parameter("embed", Tensor::ones({3, 2}));
    register_parameter("unembed", w);  // the same tensor, as in tied embeddings
  }
  Tensor w;
};

TEST(Optimizer, TiedWeightsAppearOnceInGroups) {
  TiedModule m;
  EXPECT_EQ(names(split_by_decay(m).decay), (std::vector<std::string>{"embed"}));
  // Listed twice by hand, the tensor would be updated twice per step: refused.
  EXPECT_THROW(AdamW({{"a", m.w}, {"b", m.w}}), Error);
}

TEST(Optimizer, NoDecayGroupReallyGetsNoDecay) {
  TinyBlock m;
  AdamW opt(decay_groups(m, AdamWOptions{.lr = 0.1, .weight_decay = 0.5}));
  ASSERT_EQ(opt.num_groups(), 2);
  EXPECT_EQ(opt.options(0).weight_decay, 0.5);
  EXPECT_EQ(opt.options(1).weight_decay, 0.0);
  EXPECT_EQ(opt.options(1).lr, 0.1);
  // With zero gradients AdamW's moment step is exactly zero, so only weight decay moves a
  // parameter: decayed ones scale by (1 - lr*wd), the others keep their bits.
  std::map<std::string, Tensor> before;
  for (const auto& [n, p] : m.named_parameters()) {
    before[n] = p.clone();
    p.set_grad(Tensor::zeros(p.shape()));
  }
  opt.step();
  const float decay = static_cast<float>(1.0 - 0.1 * 0.5);
  for (const std::string& n : {"proj_weight", "experts_w1"}) {
    std::vector<float> want = before[n].to_vector<float>();
    for (float& v : want) v *= decay;
    for (const auto& [name, p] : m.named_parameters()) {
      if (name == n) EXPECT_EQ(p.to_vector<float>(), want) << n;
    }
  }
  for (const auto& [n, p] : m.named_parameters()) {
    if (n == "bias" || n == "norm_scale" || n == "experts_bias" || n == "frozen") {
      EXPECT_TRUE(SameBits(p, before[n])) << n;
    }
  }
}

TEST(Optimizer, ParametersWithoutGradientAreSkipped) {
  Tensor a = Tensor::ones({3}), b = Tensor::ones({2});
  AdamW opt({{"a", a}, {"b", b}}, AdamWOptions{.lr = 0.1});
  for (int s = 0; s < 3; ++s) {
    a.set_grad(Tensor::full({3}, 0.5));
    opt.step();
  }
  EXPECT_EQ(b.to_vector<float>(), std::vector<float>(2, 1.0f));
  EXPECT_EQ(opt.state("b"), nullptr);
  ASSERT_NE(opt.state("a"), nullptr);
  EXPECT_EQ(opt.state("a")->step, 3);
  for (const auto& [k, _] : opt.state_dict()) EXPECT_EQ(k.find(".b."), std::string::npos) << k;

  // b's first update uses its own step count (1) for bias correction, like PyTorch: the same
  // result as a fresh optimizer's first step.
  Tensor b2 = b.clone();
  AdamW fresh({{"b", b2}}, AdamWOptions{.lr = 0.1});
  a.set_grad(Tensor());
  b.set_grad(Tensor::full({2}, -0.25));
  b2.set_grad(Tensor::full({2}, -0.25));
  opt.step();
  fresh.step();
  EXPECT_TRUE(SameBits(b, b2));
  EXPECT_EQ(opt.state("b")->step, 1);
  EXPECT_EQ(opt.steps(), 4);
}

TEST(Optimizer, ZeroGradDropsGradients) {
  TinyBlock m;
  SGD opt(m.named_parameters(), SGDOptions{.lr = 0.1});
  testing::set_grads(m.named_parameters(), 0);
  opt.zero_grad();
  for (const auto& [n, p] : m.named_parameters()) EXPECT_FALSE(p.grad().defined()) << n;
  opt.step();  // nothing to do
  EXPECT_EQ(opt.state("bias"), nullptr);
}

TEST(Optimizer, LearningRatesPerGroup) {
  TinyBlock m;
  SGD opt(decay_groups(m, SGDOptions{.lr = 0.5, .weight_decay = 0.1}));
  EXPECT_EQ(opt.lr(0), 0.5);
  opt.set_lr(0.25, 1);
  EXPECT_EQ(opt.lr(0), 0.5);
  EXPECT_EQ(opt.lr(1), 0.25);
  EXPECT_EQ(opt.options(1).lr, 0.25);
  opt.set_lr(0.125);
  EXPECT_EQ(opt.lr(0), 0.125);
  EXPECT_EQ(opt.lr(1), 0.125);
  // lr 0 leaves parameters untouched (SGD without decay).
  Tensor p = Tensor::ones({2});
  SGD zero({{"p", p}}, SGDOptions{.lr = 0.0, .momentum = 0.9});
  p.set_grad(Tensor::full({2}, 3.0));
  zero.step();
  EXPECT_EQ(p.to_vector<float>(), std::vector<float>(2, 1.0f));
}

TEST(Optimizer, F64ParametersKeepF64State) {
  Tensor p = Tensor::full({3}, 1.0, DType::kF64);
  AdamW opt({{"p", p}});
  p.set_grad(Tensor::full({3}, 0.5, DType::kF64));
  opt.step();
  EXPECT_EQ(opt.state("p")->buffers.at("exp_avg").dtype(), DType::kF64);
  EXPECT_FALSE(opt.state("p")->master.defined());
  // First AdamW step: p*(1 - lr*wd) - lr * g/(|g| + eps') = 1 - 1e-5 - ~1e-3.
  const double want = 1.0 * (1 - 1e-3 * 1e-2) - 1e-3 * 0.5 / (0.5 + 1e-8);
  EXPECT_NEAR(p.to_vector<double>()[0], want, 1e-15);
}

TEST(Optimizer, Misuse) {
  Tensor a = Tensor::ones({2});
  EXPECT_THROW(AdamW({{"a", a}, {"a", Tensor::ones({2})}}), Error);  // duplicate name
  EXPECT_THROW(AdamW({{"i", Tensor::zeros({2}, DType::kI64)}}), Error);
  EXPECT_THROW(AdamW({{"f8", Tensor::zeros({2}, DType::kF8E4M3)}}), Error);
  EXPECT_THROW(AdamW({{"u", Tensor()}}), Error);
  EXPECT_THROW(AdamW({{"a", a}}, AdamWOptions{.lr = -1}), Error);
  EXPECT_THROW(AdamW({{"a", a}}, AdamWOptions{.beta1 = 1.0}), Error);
  EXPECT_THROW(AdamW({{"a", a}}, AdamWOptions{.eps = -1e-8}), Error);
  EXPECT_THROW(AdamW({{"a", a}}, AdamWOptions{.weight_decay = -0.1}), Error);
  EXPECT_THROW(SGD({{"a", a}}, SGDOptions{.nesterov = true}), Error);  // momentum 0
  EXPECT_THROW(SGD({{"a", a}}, SGDOptions{.momentum = 0.9, .dampening = 0.1, .nesterov = true}),
               Error);
  EXPECT_THROW(SGD({{"a", a}}, SGDOptions{.momentum = -0.9}), Error);
  AdamW opt({{"a", a}});
  EXPECT_THROW(opt.set_lr(-0.1), Error);
  EXPECT_THROW(opt.set_lr(0.1, 3), Error);
  EXPECT_THROW(opt.params(1), Error);
  EXPECT_THROW(opt.options(-1), Error);
}

TEST(Optimizer, BadGradientChangesNothing) {
  Tensor a = Tensor::ones({2}), b = Tensor::ones({2});
  AdamW opt({{"a", a}, {"b", b}});
  a.set_grad(Tensor::ones({2}));
  b.set_grad(Tensor::zeros({2}, DType::kI32));  // not floating
  EXPECT_THROW(opt.step(), Error);
  EXPECT_EQ(a.to_vector<float>(), std::vector<float>(2, 1.0f));
  EXPECT_EQ(opt.state("a"), nullptr);
  EXPECT_EQ(opt.steps(), 0);
}

TEST(Optimizer, ParameterDtypeChangedUnderTheOptimizer) {
  TinyBlock m;
  AdamW opt(m.named_parameters());
  testing::set_grads(m.named_parameters(), 0);
  opt.step();
  m.to(DType::kBF16);  // state was made for f32 parameters
  testing::set_grads(m.named_parameters(), 1, DType::kBF16);
  EXPECT_THROW(opt.step(), Error);
}

}  // namespace
}  // namespace chorus::optim
