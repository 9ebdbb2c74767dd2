// Learning-rate schedules against their closed forms, and the scheduler over groups.
#include "core/optim/schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "core/optim/sgd.h"
#include "test_util.h"

namespace chorus::optim {
namespace {

constexpr double kPi = std::numbers::pi;

TEST(Schedule, CosineWithWarmup) {
  const Schedule s{
      .decay = Decay::kCosine, .warmup_steps = 10, .total_steps = 110, .min_lr_ratio = 0.1};
  EXPECT_DOUBLE_EQ(lr_factor(s, 0), 0.1);  // 1/10: warmup starts above zero
  EXPECT_DOUBLE_EQ(lr_factor(s, 4), 0.5);
  EXPECT_DOUBLE_EQ(lr_factor(s, 9), 1.0);   // last warmup step reaches the full rate
  EXPECT_DOUBLE_EQ(lr_factor(s, 10), 1.0);  // decay starts at the top
  EXPECT_DOUBLE_EQ(lr_factor(s, 35), 0.1 + 0.9 * 0.5 * (1 + std::cos(kPi * 0.25)));
  EXPECT_DOUBLE_EQ(lr_factor(s, 60), 0.1 + 0.9 * 0.5);  // halfway
  EXPECT_DOUBLE_EQ(lr_factor(s, 109), 0.1 + 0.9 * 0.5 * (1 + std::cos(kPi * 0.99)));
  EXPECT_DOUBLE_EQ(lr_factor(s, 110), 0.1);  // end: min_lr
  EXPECT_DOUBLE_EQ(lr_factor(s, 1000), 0.1);
  EXPECT_DOUBLE_EQ(scheduled_lr(s, 3e-4, 60), 3e-4 * 0.55);
  // Monotone non-increasing after warmup.
  for (int64_t k = 10; k < 120; ++k) EXPECT_LE(lr_factor(s, k + 1), lr_factor(s, k)) << k;
}

TEST(Schedule, LinearDecay) {
  const Schedule s{
      .decay = Decay::kLinear, .warmup_steps = 4, .total_steps = 24, .min_lr_ratio = 0.0};
  EXPECT_DOUBLE_EQ(lr_factor(s, 0), 0.25);
  EXPECT_DOUBLE_EQ(lr_factor(s, 3), 1.0);
  EXPECT_DOUBLE_EQ(lr_factor(s, 4), 1.0);
  EXPECT_DOUBLE_EQ(lr_factor(s, 9), 0.75);
  EXPECT_NEAR(lr_factor(s, 23), 0.05, 1e-15);
  EXPECT_DOUBLE_EQ(lr_factor(s, 24), 0.0);
}

TEST(Schedule, ConstantAndNoWarmup) {
  const Schedule c{.decay = Decay::kConstant, .warmup_steps = 2};
  EXPECT_DOUBLE_EQ(lr_factor(c, 0), 0.5);
  EXPECT_DOUBLE_EQ(lr_factor(c, 1), 1.0);
  EXPECT_DOUBLE_EQ(lr_factor(c, 1000000), 1.0);
  const Schedule cos{.decay = Decay::kCosine, .warmup_steps = 0, .total_steps = 4};
  EXPECT_DOUBLE_EQ(lr_factor(cos, 0), 1.0);
  EXPECT_DOUBLE_EQ(lr_factor(cos, 2), 0.5);
  EXPECT_DOUBLE_EQ(lr_factor(cos, 4), 0.0);
  // Decay of zero length: straight to min_lr after warmup.
  const Schedule flat{
      .decay = Decay::kLinear, .warmup_steps = 3, .total_steps = 3, .min_lr_ratio = 0.2};
  EXPECT_DOUBLE_EQ(lr_factor(flat, 2), 1.0);
  EXPECT_DOUBLE_EQ(lr_factor(flat, 3), 0.2);
}

TEST(Schedule, InvalidSchedules) {
  EXPECT_THROW(lr_factor(Schedule{.warmup_steps = -1}, 0), Error);
  EXPECT_THROW(lr_factor(Schedule{.warmup_steps = 10, .total_steps = 5}, 0), Error);
  EXPECT_THROW(lr_factor(Schedule{.total_steps = 5, .min_lr_ratio = 1.5}, 0), Error);
  EXPECT_THROW(lr_factor(Schedule{.total_steps = 5}, -1), Error);
}

TEST(Schedule, SchedulerScalesEachGroupByItsBaseLr) {
  Tensor a = Tensor::ones({2}), b = Tensor::ones({2});
  SGD opt(std::vector<ParamGroup<SGDOptions>>{{{{"a", a}}, SGDOptions{.lr = 0.2}},
                                              {{{"b", b}}, SGDOptions{.lr = 0.02}}});
  const Schedule s{
      .decay = Decay::kCosine, .warmup_steps = 2, .total_steps = 6, .min_lr_ratio = 0.5};
  LrScheduler sched(opt, s);
  EXPECT_EQ(sched.base_lr(0), 0.2);
  EXPECT_DOUBLE_EQ(opt.lr(0), 0.2 * 0.5);  // step 0 applied on construction
  EXPECT_DOUBLE_EQ(opt.lr(1), 0.02 * 0.5);
  for (int64_t k = 0; k < 8; ++k) {
    // The lr in force for step k is factor(k), whether update() ran before or after step().
    EXPECT_DOUBLE_EQ(opt.lr(0), 0.2 * lr_factor(s, k)) << k;
    EXPECT_DOUBLE_EQ(opt.lr(1), 0.02 * lr_factor(s, k)) << k;
    a.set_grad(Tensor::ones({2}));
    opt.step();
    sched.update();
  }
  sched.apply(4);
  EXPECT_DOUBLE_EQ(opt.lr(1), 0.02 * (0.5 + 0.5 * 0.5 * (1 + std::cos(kPi * 0.5))));
  EXPECT_THROW(LrScheduler(opt, s, {0.1}), Error);  // one base lr per group
}

}  // namespace
}  // namespace chorus::optim
