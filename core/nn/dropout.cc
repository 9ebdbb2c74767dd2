#include "core/nn/dropout.h"

#include "core/ops/dropout.h"

namespace chorus::nn {

Dropout::Dropout(double p) : Module("Dropout"), p_(p) {
  CHORUS_CHECK(p >= 0.0 && p <= 1.0, "Dropout: probability ", p, " is outside [0, 1]");
}

Tensor Dropout::forward(const Tensor& x, Generator* gen) const {
  if (!active()) return x;
  CHORUS_CHECK(gen != nullptr, "Dropout(p=", p_,
               ") in training mode needs a Generator (ForwardContext::gen is null)");
  return dropout(x, p_, true, *gen);
}

}  // namespace chorus::nn
