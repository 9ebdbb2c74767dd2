// Gradient checking by central finite differences in f64.
//
// gradcheck(fn, inputs) compares, for every element of every floating input, the analytic
// gradient of L = Σ out ⊙ W (W a fixed random weighting, so every output element matters)
// with (L(x+ε) − L(x−ε)) / 2ε. Floating inputs should be f64; integer inputs (indices,
// labels) pass through untouched. Returns OK or an error naming the input, the element and
// both values.
#pragma once

#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "core/tensor/tensor.h"

namespace chorus::autograd {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
  uint64_t seed = 1234;  // for the output weighting W
};

using GradcheckFn = std::function<Tensor(const std::vector<Tensor>&)>;

absl::Status gradcheck(const GradcheckFn& fn, const std::vector<Tensor>& inputs,
                       const GradcheckOptions& options = {});

}  // namespace chorus::autograd
