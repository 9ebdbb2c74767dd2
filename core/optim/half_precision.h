// Parameters in bf16 or f16 get an f32 master copy in the optimizers (optimizer.cc) and in their
// saved state (optimizer_state.cc).
#pragma once

#include "core/tensor/dtype.h"

namespace chorus::optim {

inline bool is_half_precision(DType d) { return d == DType::kBF16 || d == DType::kF16; }

}  // namespace chorus::optim
