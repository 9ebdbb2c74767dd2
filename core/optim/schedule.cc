#include "core/optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/optim/optimizer.h"
#include "core/tensor/error.h"

namespace chorus::optim {

void validate(const Schedule& s) {
  CHORUS_CHECK(s.warmup_steps >= 0, "lr schedule: warmup_steps ", s.warmup_steps, " < 0");
  if (s.decay == Decay::kConstant) return;
  CHORUS_CHECK(s.total_steps >= s.warmup_steps, "lr schedule: total_steps ", s.total_steps,
               " < warmup_steps ", s.warmup_steps);
  CHORUS_CHECK(s.min_lr_ratio >= 0 && s.min_lr_ratio <= 1, "lr schedule: min_lr_ratio ",
               s.min_lr_ratio, " outside [0, 1]");
}

double lr_factor(const Schedule& s, int64_t step) {
  validate(s);
  CHORUS_CHECK(step >= 0, "lr schedule: step ", step, " < 0");
  if (step < s.warmup_steps) {
    return static_cast<double>(step + 1) / static_cast<double>(s.warmup_steps);
  }
  if (s.decay == Decay::kConstant) return 1.0;
  if (step >= s.total_steps) return s.min_lr_ratio;
  const double progress = static_cast<double>(step - s.warmup_steps) /
                          static_cast<double>(s.total_steps - s.warmup_steps);
  const double shape = s.decay == Decay::kCosine
                           ? 0.5 * (1.0 + std::cos(std::numbers::pi * progress))
                           : 1.0 - progress;
  return s.min_lr_ratio + (1.0 - s.min_lr_ratio) * shape;
}

namespace {
std::vector<double> current_lrs(const Optimizer& opt) {
  std::vector<double> lrs;
  for (int64_t g = 0; g < opt.num_groups(); ++g) lrs.push_back(opt.lr(g));
  return lrs;
}
}  // namespace

LrScheduler::LrScheduler(Optimizer& optimizer, const Schedule& schedule)
    : LrScheduler(optimizer, schedule, current_lrs(optimizer)) {}

LrScheduler::LrScheduler(Optimizer& optimizer, const Schedule& schedule,
                         std::vector<double> base_lrs)
    : optimizer_(optimizer), schedule_(schedule), base_lrs_(std::move(base_lrs)) {
  validate(schedule_);
  CHORUS_CHECK(static_cast<int64_t>(base_lrs_.size()) == optimizer_.num_groups(),
               "LrScheduler: ", base_lrs_.size(), " base lrs for ", optimizer_.num_groups(),
               " groups");
  update();
}

void LrScheduler::update() { apply(optimizer_.steps()); }

void LrScheduler::apply(int64_t step) {
  const double factor = lr_factor(schedule_, step);
  for (int64_t g = 0; g < optimizer_.num_groups(); ++g) optimizer_.set_lr(base_lrs_[g] * factor, g);
}

}  // namespace chorus::optim
