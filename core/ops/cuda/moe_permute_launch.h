// Launchers of the MoE permutation kernels (moe_permute_kernels.cu): the CPU kernels of
// cpu/moe_permute_kernels.h on contiguous f32/f64 rows with device-resident i64 index tensors.
// Every output element (or, for the weight gradient, every output value) is produced by one
// thread (one warp) in a fixed order: no atomics, results reproducible run to run. Row copies and
// scalings are bitwise equal to the CPU; sums over slots keep the CPU's order j = 0..k-1.
#pragma once

#include "core/ops/cuda/launch.h"

namespace chorus::cuda {

// out[r, :] = w[row_slot[r]] · x[row_slot[r] / k, :] (a plain copy when weights is null).
void launch_moe_gather_rows(bool f64, void* out, const void* x, const int64_t* row_slot,
                            int64_t rows, int64_t d, int64_t k, const void* weights,
                            StreamHandle stream);
// out[t, :] = Σ_j w[t, j] · rows[slot_row[t, j], :] over the slots with slot_row >= 0 (zeros for
// none; unweighted when weights is null). out [n, d], slot_row/weights [n, k].
void launch_moe_combine_rows(bool f64, void* out, const void* rows, const int64_t* slot_row,
                             int64_t n, int64_t d, int64_t k, const void* weights,
                             StreamHandle stream);
// grad_w[t, j] = <grad_out[t, :], rows[slot_row[t, j], :]> (0 for a dropped slot), one warp per
// value: lanes sum strided columns, then a fixed butterfly combines them.
void launch_moe_combine_weight_grad(bool f64, void* grad_w, const void* grad_out, const void* rows,
                                    const int64_t* slot_row, int64_t n, int64_t d, int64_t k,
                                    StreamHandle stream);

}  // namespace chorus::cuda
