// Launchers of the row sort kernels (sort_kernels.cu): one block sorts one row of up to
// kMaxSortRow elements in shared memory (bitonic network), in the CPU kernels' strict order:
// by value (NaN largest), ties by position. Longer rows stay on the host fallback.
#pragma once

#include "core/ops/cuda/launch.h"

namespace chorus::cuda {

inline constexpr int64_t kMaxSortRow = 2048;

// Rows [rows, n] of `dtype` (f32, f64, i8, u8, i32, i64) contiguous in x. Writes the first
// `count` entries of each sorted row to values [rows, count] (x's dtype) and indices (i64).
// by_position: the kept entries are then reordered by position (topk with sorted = false).
void launch_sort_rows(DType dtype, void* values, int64_t* indices, const void* x, int64_t rows,
                      int64_t n, int64_t count, bool descending, bool by_position,
                      StreamHandle stream);

}  // namespace chorus::cuda
