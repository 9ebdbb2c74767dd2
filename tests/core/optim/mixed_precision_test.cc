// bf16/f16 parameters with fp32 master copies: the master follows exactly the trajectory of an
// f32 run fed the same gradients, and the parameter is always the master rounded to nearest
// even.
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "core/optim/adamw.h"
#include "core/optim/sgd.h"
#include "core/tensor/float_formats.h"
#include "optim_test_util.h"
#include "test_util.h"

namespace chorus::optim {
namespace {

using testing::SameBits;
using testing::TinyBlock;

using MakeOptimizer = std::function<std::unique_ptr<Optimizer>(const NamedTensors&)>;

// Runs the same 5 steps on an f32 model and on a `low` (bf16/f16) model with equal starting
// values and equal gradients (given in `grad_dtype` to the low model).
void check_master_trajectory(DType low, DType grad_dtype, const MakeOptimizer& make) {
  TinyBlock lp(low);
  TinyBlock ref(DType::kF32);
  // Start from the same values: the f32 model takes the low-precision values exactly.
  for (size_t i = 0; i < ref.named_parameters().size(); ++i) {
    ref.named_parameters()[i].second.copy_(lp.named_parameters()[i].second);
  }
  const NamedTensors lp_params = lp.named_parameters(), ref_params = ref.named_parameters();
  auto opt_lp = make(lp_params);
  auto opt_ref = make(ref_params);
  for (int64_t s = 0; s < 5; ++s) {
    // Gradients rounded to grad_dtype, given exactly to the f32 run too.
    testing::set_grads(lp.named_parameters(), s, grad_dtype);
    for (size_t i = 0; i < ref.named_parameters().size(); ++i) {
      ref.named_parameters()[i].second.set_grad(
          lp.named_parameters()[i].second.grad().to(DType::kF32));
    }
    opt_lp->step();
    opt_ref->step();
    for (size_t i = 0; i < ref.named_parameters().size(); ++i) {
      const auto& [name, p] = lp_params[i];
      SCOPED_TRACE(name + " step " + std::to_string(s + 1));
      const ParamState* st = opt_lp->state(name);
      ASSERT_NE(st, nullptr);
      ASSERT_TRUE(st->master.defined());
      EXPECT_EQ(st->master.dtype(), DType::kF32);
      for (const auto& [b, t] : st->buffers) EXPECT_EQ(t.dtype(), DType::kF32) << b;
      EXPECT_TRUE(SameBits(st->master, ref_params[i].second));
      EXPECT_EQ(p.dtype(), low);
      EXPECT_TRUE(SameBits(p, st->master.to(low)));
      // Not vacuous: the master holds bits the parameter cannot.
      if (s == 4 && p.numel() > 2) EXPECT_FALSE(SameBits(p.to(DType::kF32), st->master));
    }
  }
}

MakeOptimizer adamw(AdamWOptions o) {
  return [o](const NamedTensors& ps) { return std::make_unique<AdamW>(ps, o); };
}
MakeOptimizer sgd(SGDOptions o) {
  return [o](const NamedTensors& ps) { return std::make_unique<SGD>(ps, o); };
}

TEST(MixedPrecision, AdamWBf16) {
  check_master_trajectory(DType::kBF16, DType::kBF16, adamw({.lr = 0.01, .weight_decay = 0.1}));
}
TEST(MixedPrecision, AdamWBf16WithF32Gradients) {
  check_master_trajectory(DType::kBF16, DType::kF32, adamw({.lr = 0.01, .weight_decay = 0.1}));
}
TEST(MixedPrecision, AdamWF16) {
  check_master_trajectory(DType::kF16, DType::kF16, adamw({.lr = 0.01}));
}
TEST(MixedPrecision, SGDNesterovBf16) {
  check_master_trajectory(
      DType::kBF16, DType::kBF16,
      sgd({.lr = 0.05, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true}));
}
TEST(MixedPrecision, SGDDampenedF16) {
  check_master_trajectory(DType::kF16, DType::kF16,
                          sgd({.lr = 0.05, .momentum = 0.8, .dampening = 0.2}));
}

// Tiny updates that a bf16 parameter cannot represent still accumulate in the master and show
// up in the parameter once they add up: the reason for keeping a master copy.
TEST(MixedPrecision, SmallUpdatesAccumulateInTheMaster) {
  Tensor p = Tensor::ones({1}, DType::kBF16);  // bf16 spacing at 1 is 2^-7 (below: 2^-8)
  SGD opt({{"p", p}}, SGDOptions{.lr = 1e-3});
  for (int s = 0; s < 10; ++s) {
    p.set_grad(Tensor::ones({1}, DType::kBF16));
    opt.step();
  }
  EXPECT_NEAR(opt.state("p")->master.item(), 0.99, 1e-6);
  EXPECT_EQ(p.item(), static_cast<double>(bf16_to_float(float_to_bf16(0.99f))));
  EXPECT_NE(p.item(), 1.0);
}

}  // namespace
}  // namespace chorus::optim
