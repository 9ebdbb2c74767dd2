// How many rows one parallel_for task takes in the CPU row kernels (norms, softmax,
// cross-entropy, reductions, MoE permutation): enough rows that a task covers about `grain`
// elements, so that short rows do not cost a task each.
#pragma once

#include <cstdint>

#include "core/tensor/parallel.h"

namespace chorus::cpu {

// Grain for row kernels that do a few operations per element (norms, softmax, cross-entropy).
inline constexpr int64_t kRowGrain = 16384;

// Rows per task so that a task covers about `grain` elements of rows of `row_elements`.
inline int64_t rows_per_task(int64_t row_elements, int64_t grain = kElementwiseGrain) {
  const int64_t rows = grain / (row_elements > 1 ? row_elements : 1);
  return rows > 1 ? rows : 1;
}

}  // namespace chorus::cpu
