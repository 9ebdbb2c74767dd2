// CUDA entries of the reduction, grad-clip and cumsum kernel slots.
#include <cmath>

#include "core/ops/cpu/grad_clip_kernels.h"
#include "core/ops/cpu/reduce_kernels.h"
#include "core/ops/cpu/scan_kernels.h"
#include "core/ops/cuda/check.h"
#include "core/ops/cuda/reduce_launch.h"
#include "core/ops/cuda/tensor_operands.h"
#include "core/ops/kernel_dispatch.h"

namespace chorus::cuda {
namespace {

bool is_f64(const Tensor& t) { return t.dtype() == DType::kF64; }

void row_reduce(const char* op, int kind, const Tensor& out, const Tensor& rows, double param) {
  const int d = device_index(rows, op);
  DeviceGuard guard(d);
  const int64_t outer = rows.shape()[0], inner = rows.shape()[1];
  if (const int chunks = row_reduce_chunks(outer, inner); chunks > 1) {
    // Scratch from the caching allocator; freed (back to the cache) after the launches are
    // queued on the same stream, which is safe for the stream-ordered cache.
    const Tensor partial = Tensor::empty({outer * chunks * 2}, DType::kF64, rows.device());
    launch_row_reduce_split(kind, is_f64(rows), rows.raw_data(), out.raw_data(), outer, inner,
                            param, chunks, partial.raw_data(), current_stream(d));
  } else {
    launch_row_reduce(kind, is_f64(rows), rows.raw_data(), out.raw_data(), outer, inner, param,
                      current_stream(d));
  }
  check_launch(op, describe(op, {&out, &rows}));
}

void sum_rows(const Tensor& out, const Tensor& rows) { row_reduce("sum", kRowSum, out, rows, 0); }
void var_rows(const Tensor& out, const Tensor& rows, int64_t correction) {
  const double divisor = std::max<double>(static_cast<double>(rows.shape()[1] - correction), 0.0);
  row_reduce("var", kRowVar, out, rows, divisor);
}
void logsumexp_rows(const Tensor& out, const Tensor& rows) {
  row_reduce("logsumexp", kRowLogSumExp, out, rows, 0);
}
void norm_rows(const Tensor& out, const Tensor& rows, double p) {
  row_reduce("norm", kRowNorm, out, rows, p);
}

void extreme_rows(const Tensor& values, const Tensor& indices, const Tensor& rows, bool is_max) {
  const int d = device_index(rows, is_max ? "max" : "min");
  DeviceGuard guard(d);
  launch_row_extreme(is_max, is_f64(rows), rows.raw_data(),
                     values.defined() ? values.raw_data() : nullptr,
                     indices.defined() ? indices.device_data<int64_t>() : nullptr, rows.shape()[0],
                     rows.shape()[1], current_stream(d));
  check_launch("max/min", describe("extreme_rows", {&values, &indices, &rows}));
}

void scatter_along_dim(const Tensor& gx, const Tensor& g, const Tensor& indices, int64_t pre,
                       int64_t n, int64_t post) {
  const int d = device_index(gx, "max/min backward");
  DeviceGuard guard(d);
  launch_scatter_along_dim(is_f64(gx), gx.raw_data(), g.raw_data(), indices.device_data<int64_t>(),
                           pre, n, post, current_stream(d));
  check_launch("max/min backward", describe("scatter_along_dim", {&gx, &g, &indices}));
}

double abs_pow_sum(const Tensor& x, double p) {
  if (x.numel() == 0) return 0.0;
  const int d = device_index(x, "grad norm");
  DeviceGuard guard(d);
  Tensor result = Tensor::empty({1 + kAbsPowPartials}, DType::kF64, x.device());
  double* r = result.device_data<double>();
  launch_abs_pow_sum(x.dtype(), x.raw_data(), x.numel(), p, r + 1, r, /*accumulate=*/false,
                     current_stream(d));
  check_launch("grad norm", describe("abs_pow_sum", {&x}));
  return result.slice(0, 0, 1).item();
}

void abs_pow_sum_accumulate(const Tensor& acc, const Tensor& x, double p) {
  const int d = device_index(x, "grad norm");
  DeviceGuard guard(d);
  const Tensor partial = Tensor::empty({kAbsPowPartials}, DType::kF64, x.device());
  launch_abs_pow_sum(x.dtype(), x.raw_data(), x.numel(), p, partial.device_data<double>(),
                     acc.device_data<double>(), /*accumulate=*/true, current_stream(d));
  check_launch("grad norm", describe("abs_pow_sum_accumulate", {&acc, &x}));
}

void scale(const Tensor& x, double factor) {
  const int d = device_index(x, "scale_");
  DeviceGuard guard(d);
  launch_scale(x.dtype(), x.raw_data(), x.numel(), factor, current_stream(d));
  check_launch("scale_", describe("scale_", {&x}));
}

void cumsum(const Tensor& out, const Tensor& x, int64_t outer, int64_t n, int64_t inner,
            bool reverse) {
  const int d = device_index(x, "cumsum");
  DeviceGuard guard(d);
  CHORUS_CHECK(x.dtype() == DType::kF32 || x.dtype() == DType::kF64 || x.dtype() == DType::kI64,
               "cumsum on CUDA: expected f32, f64 or i64, got ", dtype_name(x.dtype()));
  launch_cumsum(x.dtype(), x.raw_data(), out.raw_data(), outer, n, inner, reverse,
                current_stream(d));
  check_launch("cumsum", describe("cumsum", {&out, &x}));
}

CHORUS_REGISTER_CUDA_KERNEL(cpu::sum_rows, sum_rows);
CHORUS_REGISTER_CUDA_KERNEL(cpu::var_rows, var_rows);
CHORUS_REGISTER_CUDA_KERNEL(cpu::logsumexp_rows, logsumexp_rows);
CHORUS_REGISTER_CUDA_KERNEL(cpu::norm_rows, norm_rows);
CHORUS_REGISTER_CUDA_KERNEL(cpu::extreme_rows, extreme_rows);
CHORUS_REGISTER_CUDA_KERNEL(cpu::scatter_along_dim, scatter_along_dim);
CHORUS_REGISTER_CUDA_KERNEL(cpu::abs_pow_sum_kernel, abs_pow_sum);
CHORUS_REGISTER_CUDA_KERNEL(cpu::abs_pow_sum_accumulate_kernel, abs_pow_sum_accumulate);
CHORUS_REGISTER_CUDA_KERNEL(cpu::scale_kernel, scale);
CHORUS_REGISTER_CUDA_KERNEL(cpu::cumsum_kernel, cumsum);

}  // namespace
}  // namespace chorus::cuda
