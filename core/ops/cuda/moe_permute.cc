// CUDA entries of the MoE permutation kernel slots (cpu/moe_permute_kernels.h): contiguous f32/f64
// rows (the front-end, core/nn/moe/permute.cc, computes half types in f32) and the routing plan's
// i64 index tensors, which make_routing_plan puts on the device of the router's indices.
#include "core/ops/cpu/moe_permute_kernels.h"
#include "core/ops/cuda/check.h"
#include "core/ops/cuda/moe_permute_launch.h"
#include "core/ops/cuda/tensor_operands.h"
#include "core/ops/kernel_dispatch.h"

namespace chorus::cuda {
namespace {

// The kernels take f32 or f64 (what the CPU kernels take); anything else is a front-end bug.
bool is_f64(const char* op, const Tensor& t) {
  CHORUS_CHECK(t.dtype() == DType::kF32 || t.dtype() == DType::kF64, op,
               ": the CUDA kernel takes f32 or f64, got ", dtype_name(t.dtype()));
  return t.dtype() == DType::kF64;
}

// An index tensor of the plan on `like`'s device: a plan made from host indices (a router run
// on the host, a hand-made plan) is copied over here rather than read through host pointers.
Tensor on_device_of(const Tensor& index, const Tensor& like) {
  CHORUS_CHECK(index.dtype() == DType::kI64 && index.is_contiguous(),
               "moe permutation: routing-plan indices must be contiguous i64, got ",
               index.ToString());
  return index.to(like.device());
}

void gather_rows(const Tensor& out, const Tensor& x, const Tensor& row_slot, int64_t k,
                 const Tensor& weights) {
  const bool f64 = is_f64("moe_gather_rows", out);
  const int d = device_index(out, "moe_gather_rows");
  const Tensor slots = on_device_of(row_slot, out);
  DeviceGuard guard(d);
  launch_moe_gather_rows(f64, out.raw_data(), x.raw_data(), slots.device_data<int64_t>(),
                         out.size(0), out.size(1), k,
                         weights.defined() ? weights.raw_data() : nullptr, current_stream(d));
  check_launch("moe_gather_rows", describe("moe_gather_rows", {&out, &x, &row_slot, &weights}));
}

void combine_rows(const Tensor& out, const Tensor& rows, const Tensor& slot_row,
                  const Tensor& weights) {
  const bool f64 = is_f64("moe_combine_rows", out);
  const int d = device_index(out, "moe_combine_rows");
  const Tensor slots = on_device_of(slot_row, out);
  DeviceGuard guard(d);
  launch_moe_combine_rows(f64, out.raw_data(), rows.raw_data(), slots.device_data<int64_t>(),
                          out.size(0), out.size(1), slot_row.size(1),
                          weights.defined() ? weights.raw_data() : nullptr, current_stream(d));
  check_launch("moe_combine_rows",
               describe("moe_combine_rows", {&out, &rows, &slot_row, &weights}));
}

void combine_weight_grad(const Tensor& grad_w, const Tensor& grad_out, const Tensor& rows,
                         const Tensor& slot_row) {
  const bool f64 = is_f64("moe_combine_weight_grad", grad_w);
  const int d = device_index(grad_w, "moe_combine_weight_grad");
  const Tensor slots = on_device_of(slot_row, grad_w);
  DeviceGuard guard(d);
  launch_moe_combine_weight_grad(f64, grad_w.raw_data(), grad_out.raw_data(), rows.raw_data(),
                                 slots.device_data<int64_t>(), grad_w.size(0), grad_out.size(1),
                                 grad_w.size(1), current_stream(d));
  check_launch("moe_combine_weight_grad",
               describe("moe_combine_weight_grad", {&grad_w, &grad_out, &rows, &slot_row}));
}

CHORUS_REGISTER_CUDA_KERNEL(cpu::moe_gather_rows, gather_rows);
CHORUS_REGISTER_CUDA_KERNEL(cpu::moe_combine_rows, combine_rows);
CHORUS_REGISTER_CUDA_KERNEL(cpu::moe_combine_weight_grad, combine_weight_grad);

}  // namespace
}  // namespace chorus::cuda
