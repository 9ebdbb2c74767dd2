// Launchers of the row sort kernels: one block sorts one row of up to kMaxSortRow elements in
// shared memory (bitonic network, sort_kernels.cu); longer rows go through a segmented radix
// sort over order-preserving keys (sort_long_kernels.cu). Both give the CPU kernels' strict
// order: by value (NaN largest, -0 equal to +0), ties by position.
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

// Rows longer than kMaxSortRow, same contract, with `workspace` of
// sort_long_rows_workspace(...) bytes of device memory. rows * n must fit an int (CUB's item
// count) and n an int32 position: kMaxLongSortItems.
inline constexpr int64_t kMaxLongSortItems = (int64_t{1} << 31) - 1;
size_t sort_long_rows_workspace(DType dtype, int64_t rows, int64_t n, int64_t count,
                                bool by_position);
void launch_sort_long_rows(DType dtype, void* values, int64_t* indices, const void* x, int64_t rows,
                           int64_t n, int64_t count, bool descending, bool by_position,
                           void* workspace, StreamHandle stream);

}  // namespace chorus::cuda
