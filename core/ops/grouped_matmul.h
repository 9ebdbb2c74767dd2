// Grouped matrix product for mixture-of-experts layers: many small GEMMs, one per expert, over
// a token matrix whose rows are sorted by expert.
//
// Rows offsets[e] .. offsets[e+1] of x belong to group (expert) e and are multiplied by that
// group's weight matrix w[e]. Groups may be empty; every row belongs to exactly one group.
// This is the "dropless" formulation (MegaBlocks-style): no padding to a capacity, so the cost
// is proportional to the rows actually routed.
#pragma once

#include "core/tensor/tensor.h"

namespace chorus {

// x [T, d] (rows sorted by group), w [E, d, f], offsets i64 [E + 1] with offsets[0] = 0,
// offsets[E] = T and non-decreasing -> out [T, f] where out[r] = x[r] · w[e] for the group e
// owning row r. x and w share one floating dtype (f32 and f64 natively; bf16/f16 computed in
// f32 and rounded back). Differentiable in x and w: dx_e = g_e · w_eᵀ, dw_e = x_eᵀ · g_e (zero
// for an empty group). The offsets are only read on the host.
Tensor grouped_matmul(const Tensor& x, const Tensor& w, const Tensor& offsets);

}  // namespace chorus
