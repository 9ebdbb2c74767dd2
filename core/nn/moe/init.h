// Deterministic parameter initialisation for the MoE layer, drawn from the Philox stream so
// that a seed reproduces the same weights on every machine.
#pragma once

#include "core/tensor/philox.h"
#include "core/tensor/tensor.h"

namespace chorus::nn::moe {

// Values uniform in [-bound, bound) (element i takes word i of gen's next draw), as `dtype`.
Tensor uniform_init(const Shape& shape, double bound, DType dtype, Generator& gen);

// Factors uniform in [1 - eps, 1 + eps) as `dtype`, for multiplicative jitter noise.
Tensor uniform_jitter(const Shape& shape, double eps, DType dtype, Generator& gen);

}  // namespace chorus::nn::moe
