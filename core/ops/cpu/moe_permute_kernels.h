// CPU kernels that move token rows between token order and expert order for MoE layers
// (front-ends in core/nn/moe/permute.cc). Both are written in "gather form": every output row
// is produced by one task that reads its inputs, so there are no atomic or racing additions
// and results are bitwise reproducible whatever the thread count.
//
// Terms: N tokens, each with k assignments ("slots" s = t·k + j); M rows in expert order.
// row_slot[r] is the slot that expert-ordered row r serves; slot_row[s] is the row serving
// slot s, or -1 when the slot was dropped (capacity mode). All index tensors are contiguous
// i64 and trusted (the front-end built them). Data tensors are contiguous f32 or f64.
#pragma once

#include "core/tensor/tensor.h"

namespace chorus::cpu {

// out[r, :] = scale(r) · x[row_slot[r] / k, :] with scale(r) = weights[row_slot[r]] when
// `weights` ([N·k] values) is defined, else 1 (then a plain copy). out [M, d], x [N, d].
void moe_gather_rows(const Tensor& out, const Tensor& x, const Tensor& row_slot, int64_t k,
                     const Tensor& weights);

// out[t, :] = Σ_j w[t, j] · rows[slot_row[t, j], :] over the slots of token t that were not
// dropped, in order j = 0..k-1 (w = 1 when `weights` is undefined); a token with no surviving
// slot gets zeros. out [N, d], rows [M, d], slot_row and weights [N, k].
void moe_combine_rows(const Tensor& out, const Tensor& rows, const Tensor& slot_row,
                      const Tensor& weights);

// grad_w[t, j] = <grad_out[t, :], rows[slot_row[t, j], :]>, 0 for a dropped slot: the gradient
// of moe_combine_rows with respect to its weights. grad_w [N, k], grad_out [N, d].
void moe_combine_weight_grad(const Tensor& grad_w, const Tensor& grad_out, const Tensor& rows,
                             const Tensor& slot_row);

}  // namespace chorus::cpu
