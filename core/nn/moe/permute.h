// Token permutation for MoE layers: from token order to expert order and back.
//
// A router gives each of N tokens k assignments ("slots" s = t·k + j, expert indices[t, j]).
// make_routing_plan() sorts the N·k slots by expert (stable: within an expert, slots keep
// token order) and, in capacity mode, drops the lowest-priority slots of every expert that
// received more than `capacity`. permute_tokens() then copies each token's row once per kept
// slot into expert order, where expert e owns rows offsets[e] .. offsets[e+1] (the layout
// grouped_matmul takes), and unpermute_tokens() sums the expert outputs back into token order,
// weighted by the gate weights. Both are differentiable (in x, and in the rows and the
// weights); their kernels work in gather form, so results are bitwise reproducible.
#pragma once

#include <cstdint>

#include "core/tensor/tensor.h"

namespace chorus::nn::moe {

struct RoutingPlan {
  int64_t num_tokens = 0;   // N
  int64_t top_k = 0;        // k
  int64_t num_experts = 0;  // E
  Tensor offsets;           // i64 [E + 1] over the kept rows
  Tensor row_slot;          // i64 [M]: the slot t·k + j each expert-ordered row serves
  Tensor slot_row;          // i64 [N, k]: the row serving each slot, -1 when dropped
  // offsets and tokens_per_expert are host tensors; row_slot and slot_row live on the device
  // of the indices the plan was made from (the permutation kernels read them there; a plan
  // used with data on another device is copied to it).
  Tensor tokens_per_expert;  // i64 [E]: slots routed to each expert, before any drop
  int64_t num_dropped = 0;   // slots dropped for capacity
  int64_t num_rows() const { return row_slot.numel(); }  // M = N·k - num_dropped
};

// indices: integer [N, k] with values in [0, num_experts). capacity < 0: dropless. Otherwise
// each expert keeps at most `capacity` slots, those with the highest `priority` ([N, k],
// floating; required then), ties going to the earlier token; the kept slots stay in token
// order. Not differentiable (it only looks at indices and priorities).
RoutingPlan make_routing_plan(const Tensor& indices, int64_t num_experts, int64_t capacity = -1,
                              const Tensor& priority = Tensor());

// x [N, d] -> [M, d]: row r is x[row_slot[r] / k]. Gradient: each token sums the gradients of
// its rows.
Tensor permute_tokens(const Tensor& x, const RoutingPlan& plan);

// rows [M, d] (expert outputs in expert order) -> [N, d]: out[t] = Σ_j weights[t, j] ·
// rows[slot_row[t, j]] over the kept slots (zeros for a token whose slots were all dropped).
// weights [N, k] may be undefined (all 1) or of another floating dtype than rows (it is cast
// to rows' compute dtype; its gradient comes back in its own dtype). With k = 1 and no
// weights, unpermute_tokens(permute_tokens(x)) == x bit for bit.
Tensor unpermute_tokens(const Tensor& rows, const RoutingPlan& plan,
                        const Tensor& weights = Tensor());

}  // namespace chorus::nn::moe
