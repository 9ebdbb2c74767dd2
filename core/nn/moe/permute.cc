#include "core/nn/moe/permute.h"

#include <algorithm>
#include <vector>

#include "core/autograd/node.h"
#include "core/ops/cpu/moe_permute_kernels.h"
#include "core/ops/kernel_dispatch.h"
#include "core/ops/operands.h"

namespace chorus::nn::moe {

using autograd::Grads;
using ops_internal::cast_raw;
using ops_internal::contiguous_raw;
using ops_internal::kernel_dtype;

RoutingPlan make_routing_plan(const Tensor& indices, int64_t num_experts, int64_t capacity,
                              const Tensor& priority) {
  ops_internal::require_same_device("make_routing_plan", {&indices, &priority});
  CHORUS_CHECK(indices.defined() && indices.dim() == 2 && is_integral(indices.dtype()),
               "make_routing_plan: indices must be an integer [N, k] tensor, got ",
               indices.defined() ? indices.ToString() : "undefined");
  CHORUS_CHECK(num_experts > 0, "make_routing_plan: num_experts must be positive, got ",
               num_experts);
  const int64_t n = indices.size(0), k = indices.size(1), slots = n * k;
  const Tensor idx = contiguous_raw(indices.to(Device::cpu()), DType::kI64);
  const int64_t* expert = idx.data<int64_t>();

  // Stable counting sort of the slots by expert.
  std::vector<int64_t> count(num_experts, 0);
  for (int64_t s = 0; s < slots; ++s) {
    CHORUS_CHECK(expert[s] >= 0 && expert[s] < num_experts, "make_routing_plan: expert index ",
                 expert[s], " at slot ", s, " is outside [0, ", num_experts, ")");
    ++count[expert[s]];
  }
  std::vector<int64_t> start(num_experts + 1, 0);
  for (int64_t e = 0; e < num_experts; ++e) start[e + 1] = start[e] + count[e];
  std::vector<int64_t> sorted(slots);
  {
    std::vector<int64_t> next(start.begin(), start.end() - 1);
    for (int64_t s = 0; s < slots; ++s) sorted[next[expert[s]]++] = s;
  }

  // Capacity: within each overfull expert, keep the `capacity` slots of highest priority.
  std::vector<int64_t> kept_count(count);
  std::vector<char> keep(slots, 1);
  if (capacity >= 0) {
    CHORUS_CHECK(
        priority.defined() && priority.shape() == indices.shape() && is_floating(priority.dtype()),
        "make_routing_plan: capacity mode needs floating priorities of shape ",
        shape_str(indices.shape()), ", got ",
        priority.defined() ? priority.ToString() : "undefined");
    const std::vector<double> prio = priority.to_vector<double>();
    for (int64_t e = 0; e < num_experts; ++e) {
      if (count[e] <= capacity) continue;
      std::vector<int64_t> group(sorted.begin() + start[e], sorted.begin() + start[e + 1]);
      // Slots are in token order, so the stable sort breaks ties toward the earlier token.
      std::stable_sort(group.begin(), group.end(),
                       [&](int64_t a, int64_t b) { return prio[a] > prio[b]; });
      for (size_t i = static_cast<size_t>(capacity); i < group.size(); ++i) keep[group[i]] = 0;
      kept_count[e] = capacity;
    }
  }

  RoutingPlan plan;
  plan.num_tokens = n;
  plan.top_k = k;
  plan.num_experts = num_experts;
  plan.tokens_per_expert = Tensor::from_vector(count, {num_experts});
  plan.offsets = Tensor::empty({num_experts + 1}, DType::kI64);
  int64_t* offsets = plan.offsets.data<int64_t>();
  offsets[0] = 0;
  for (int64_t e = 0; e < num_experts; ++e) offsets[e + 1] = offsets[e] + kept_count[e];
  const int64_t rows = offsets[num_experts];
  plan.num_dropped = slots - rows;
  plan.row_slot = Tensor::empty({rows}, DType::kI64);
  plan.slot_row = Tensor::full({n, k}, -1.0, DType::kI64);
  int64_t* row_slot = plan.row_slot.data<int64_t>();
  int64_t* slot_row = plan.slot_row.data<int64_t>();
  int64_t r = 0;
  for (int64_t s : sorted) {  // expert order, token order within an expert
    if (!keep[s]) continue;
    row_slot[r] = s;
    slot_row[s] = r++;
  }
  // The permutation kernels read these two per row; they live where the router's indices (and
  // so the token rows) do. offsets and tokens_per_expert are read on the host and stay there.
  plan.row_slot = plan.row_slot.to(indices.device());
  plan.slot_row = plan.slot_row.to(indices.device());
  return plan;
}

namespace {

void check_plan(const char* op, const RoutingPlan& plan) {
  CHORUS_CHECK(plan.row_slot.defined() && plan.slot_row.defined(), op,
               ": the routing plan is empty (make it with make_routing_plan)");
}

// A plan index tensor on the device of the data it permutes (a no-op when it is there already,
// as for a plan made from that device's router indices), like index_select's index.
Tensor plan_index(const Tensor& index, const Tensor& data) { return index.to(data.device()); }

// out[t] = Σ_j w[t, j] · rows[slot_row[t, j]] in the compute dtype of `rows`.
Tensor combine(const Tensor& rows, const Tensor& slot_row, const Tensor& weights) {
  Tensor out = Tensor::empty({slot_row.size(0), rows.size(1)}, rows.dtype(), rows.device());
  CHORUS_KERNEL(cpu::moe_combine_rows)(out, rows, slot_row, weights);
  return out;
}

// out[r] = w[row_slot[r]] · x[row_slot[r] / k] in the compute dtype of `x`.
Tensor gather_rows(const Tensor& x, const Tensor& row_slot, int64_t k, const Tensor& weights) {
  Tensor out = Tensor::empty({row_slot.size(0), x.size(1)}, x.dtype(), x.device());
  CHORUS_KERNEL(cpu::moe_gather_rows)(out, x, row_slot, k, weights);
  return out;
}

}  // namespace

Tensor permute_tokens(const Tensor& x, const RoutingPlan& plan) {
  check_plan("permute_tokens", plan);
  ops_internal::require_same_device("permute_tokens", {&x});
  CHORUS_CHECK(x.dim() == 2 && x.size(0) == plan.num_tokens && is_floating(x.dtype()),
               "permute_tokens: expects floating x [", plan.num_tokens, ", d], got ", x.ToString());
  const DType compute = kernel_dtype(x.dtype());
  Tensor out = cast_raw(
      gather_rows(contiguous_raw(x, compute), plan_index(plan.row_slot, x), plan.top_k, Tensor()),
      x.dtype());
  autograd::record(
      "moe_permute", {x}, {out},
      [slot_row = plan_index(plan.slot_row, x), compute, dtype = x.dtype()](const Grads& g) {
        const Tensor cg = contiguous_raw(g[0], compute);
        return Grads{cast_raw(combine(cg, slot_row, Tensor()), dtype)};
      });
  return out;
}

Tensor unpermute_tokens(const Tensor& rows, const RoutingPlan& plan, const Tensor& weights) {
  check_plan("unpermute_tokens", plan);
  ops_internal::require_same_device("unpermute_tokens", {&rows, &weights});
  CHORUS_CHECK(rows.dim() == 2 && rows.size(0) == plan.num_rows() && is_floating(rows.dtype()),
               "unpermute_tokens: expects floating rows [", plan.num_rows(), ", d], got ",
               rows.ToString());
  CHORUS_CHECK(!weights.defined() ||
                   (weights.shape() == plan.slot_row.shape() && is_floating(weights.dtype())),
               "unpermute_tokens: weights must be floating ", shape_str(plan.slot_row.shape()),
               ", got ", weights.ToString());
  const DType compute = kernel_dtype(rows.dtype());
  const Tensor cr = contiguous_raw(rows.detach(), compute);
  const Tensor cw = weights.defined() ? contiguous_raw(weights.detach(), compute) : Tensor();
  const Tensor slot_row = plan_index(plan.slot_row, rows);
  Tensor out = cast_raw(combine(cr, slot_row, cw), rows.dtype());
  autograd::record(
      "moe_unpermute", {rows, weights}, {out},
      [cr, cw, slot_row, row_slot = plan_index(plan.row_slot, rows), k = plan.top_k,
       rows_dtype = rows.dtype(), w_dtype = weights.defined() ? weights.dtype() : rows.dtype(),
       need_rows = rows.requires_grad(),
       need_w = weights.defined() && weights.requires_grad()](const Grads& g) {
        const Tensor cg = contiguous_raw(g[0], cr.dtype());
        Grads grads(2);
        if (need_rows) grads[0] = cast_raw(gather_rows(cg, row_slot, k, cw), rows_dtype);
        if (need_w) {
          Tensor gw = Tensor::empty(slot_row.shape(), cr.dtype(), cr.device());
          CHORUS_KERNEL(cpu::moe_combine_weight_grad)(gw, cg, cr, slot_row);
          grads[1] = cast_raw(gw, w_dtype);
        }
        return grads;
      });
  return out;
}

}  // namespace chorus::nn::moe
