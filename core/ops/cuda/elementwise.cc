// CUDA entries of the elementwise kernel slots (see core/ops/kernel_dispatch.h).
#include "core/ops/cpu/elementwise_kernels.h"
#include "core/ops/cuda/check.h"
#include "core/ops/cuda/elementwise_launch.h"
#include "core/ops/cuda/tensor_operands.h"
#include "core/ops/kernel_dispatch.h"

namespace chorus::cuda {
namespace {

using cpu::BinaryOp;
using cpu::UnaryOp;

static_assert(static_cast<int>(BinaryOp::kGe) == kBinGe &&
              static_cast<int>(BinaryOp::kEq) == kBinEq);
static_assert(static_cast<int>(UnaryOp::kGeluTanhGrad) == kUnGeluTanhGrad &&
              static_cast<int>(UnaryOp::kNot) == kUnNot &&
              static_cast<int>(UnaryOp::kClamp) == kUnClamp);

void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  const int d = device_index(out, "elementwise op");
  DeviceGuard guard(d);
  Operand ops[3];
  const Geometry geo = make_geometry(out.shape(), {&out, &a, &b}, ops);
  launch_binary(static_cast<int>(op), a.dtype(), geo, ops[0], ops[1], ops[2], current_stream(d));
  check_launch("binary elementwise op", describe("binary", {&out, &a, &b}));
}

void unary(UnaryOp op, const Tensor& out, const Tensor& x, double alpha, double beta) {
  const int d = device_index(out, "elementwise op");
  DeviceGuard guard(d);
  Operand ops[2];
  const Geometry geo = make_geometry(out.shape(), {&out, &x}, ops);
  launch_unary(static_cast<int>(op), x.dtype(), geo, ops[0], ops[1], alpha, beta,
               current_stream(d));
  check_launch("unary elementwise op", describe("unary", {&out, &x}));
}

void where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) {
  const int d = device_index(out, "where");
  DeviceGuard guard(d);
  Operand ops[4];
  const Geometry geo = make_geometry(out.shape(), {&out, &cond, &a, &b}, ops);
  launch_where(a.dtype() == DType::kF64, geo, ops[0], ops[1], ops[2], ops[3], current_stream(d));
  check_launch("where", describe("where", {&out, &cond, &a, &b}));
}

CHORUS_REGISTER_CUDA_KERNEL(cpu::binary_kernel, binary);
CHORUS_REGISTER_CUDA_KERNEL(cpu::unary_kernel, unary);
CHORUS_REGISTER_CUDA_KERNEL(cpu::where_kernel, where);

}  // namespace
}  // namespace chorus::cuda
