// Gradient accumulation: N micro-batches per optimizer step, for an effective batch larger
// than memory allows. Autograd adds each backward's gradients into .grad(), so the pattern is
//
//   GradAccumulator acc(4);
//   for (batch : micro_batches) {
//     Tensor loss = model.loss(batch) * acc.loss_scale();   // 1/N: the mean over N batches
//     loss.backward();
//     if (acc.micro_step()) {            // the N-th micro-batch
//       clip_grad_norm(opt, 1.0);        // clip the accumulated gradient, not each part
//       opt.step();
//       sched.update();
//       opt.zero_grad();
//     }
//   }
//
// Scaling the loss (not the gradients afterwards) keeps each backward's values at the size of
// the final gradient, which matters for bf16 gradients.
#pragma once

#include <cstdint>

#include "core/tensor/error.h"

namespace chorus::optim {

class GradAccumulator {
 public:
  explicit GradAccumulator(int64_t micro_batches) : n_(micro_batches) {
    CHORUS_CHECK(n_ >= 1, "GradAccumulator: micro_batches must be >= 1, got ", n_);
  }

  int64_t micro_batches() const { return n_; }
  double loss_scale() const { return 1.0 / static_cast<double>(n_); }
  // Micro-batches accumulated since the last optimizer step.
  int64_t pending() const { return pending_; }

  // Counts one finished micro-batch (call after its backward). Returns true when N have
  // accumulated: the caller steps the optimizer now, and the count restarts.
  bool micro_step() {
    if (++pending_ < n_) return false;
    pending_ = 0;
    return true;
  }
  // Forgets pending micro-batches (e.g. after a skipped, non-finite step).
  void reset() { pending_ = 0; }

 private:
  int64_t n_;
  int64_t pending_ = 0;
};

}  // namespace chorus::optim
