// Learning-rate schedules: pure functions of the optimizer step, so a resumed run gets the
// same learning rates from the restored step count with no scheduler state to save.
//
//   factor(s) = (s + 1) / warmup_steps                         for s < warmup_steps
//             = min + (1 - min) * shape(progress)              for warmup_steps <= s < total_steps
//             = min                                            for s >= total_steps
//   progress  = (s - warmup_steps) / (total_steps - warmup_steps)
//   shape     = (1 + cos(pi * progress)) / 2   (cosine),   1 - progress   (linear)
// where s is the 0-based index of the step about to run and min is min_lr_ratio. Warmup starts
// at base/warmup (not 0, which would waste a step) and reaches the full rate on its last step.
// Constant: 1 after warmup (total_steps and min_lr_ratio unused).
#pragma once

#include <cstdint>
#include <vector>

namespace chorus::optim {

class Optimizer;

enum class Decay { kCosine, kLinear, kConstant };

struct Schedule {
  Decay decay = Decay::kCosine;
  int64_t warmup_steps = 0;
  int64_t total_steps = 0;    // where the decay reaches min_lr_ratio (warmup included)
  double min_lr_ratio = 0.0;  // the floor, as a fraction of each group's base lr
};

// Throws chorus::Error for a schedule that makes no sense (negative counts, total < warmup for
// a decaying schedule, min_lr_ratio outside [0, 1]).
void validate(const Schedule& schedule);

// The multiplier of the base learning rate for step `step` (>= 0).
double lr_factor(const Schedule& schedule, int64_t step);

inline double scheduled_lr(const Schedule& schedule, double base_lr, int64_t step) {
  return base_lr * lr_factor(schedule, step);
}

// Applies a schedule to every group of an optimizer, each scaled by its own base lr.
//
//   LrScheduler sched(opt, schedule);   // base lrs = the groups' lrs now; sets step 0's lr
//   loop: loss.backward(); opt.step(); sched.update(); opt.zero_grad();
//
// update() sets the rate for step opt.steps(), so it can be called before or after step()
// (or both) and needs no state of its own: after load_state_dict the restored step count
// gives the right rate. The optimizer must outlive the scheduler. Build the scheduler from the
// configured lrs, not from an optimizer whose lrs a schedule already changed (or pass base_lrs).
class LrScheduler {
 public:
  LrScheduler(Optimizer& optimizer, const Schedule& schedule);
  LrScheduler(Optimizer& optimizer, const Schedule& schedule, std::vector<double> base_lrs);

  void update();             // rates for optimizer.steps()
  void apply(int64_t step);  // rates for an explicit step
  double base_lr(int64_t group) const { return base_lrs_.at(group); }
  const Schedule& schedule() const { return schedule_; }

 private:
  Optimizer& optimizer_;
  Schedule schedule_;
  std::vector<double> base_lrs_;
};

}  // namespace chorus::optim
