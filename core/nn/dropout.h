// Dropout as a module: active only while the module is training (train()/eval()).
//
// The random stream is passed at forward, not held: the caller owns one Generator per run
// (seeded from the recipe), so two runs with the same seed draw the same masks, and
// activation recomputation can replay a block with a copy of the generator's earlier state
// to draw the very same masks again (see transformer.cc).
#pragma once

#include "core/nn/module.h"
#include "core/tensor/philox.h"

namespace chorus::nn {

class Dropout : public Module {
 public:
  explicit Dropout(double p);

  // Training with p > 0: zeroes elements with probability p and scales the rest by 1/(1-p),
  // drawing from *gen (which must then be non-null). Otherwise returns x and draws nothing.
  Tensor forward(const Tensor& x, Generator* gen) const;

  double p() const { return p_; }
  // Whether forward would draw from the generator.
  bool active() const { return is_training() && p_ > 0.0; }

 private:
  double p_;
};

}  // namespace chorus::nn
