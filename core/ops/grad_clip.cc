#include "core/ops/grad_clip.h"

#include <cmath>

#include "core/ops/cpu/grad_clip_kernels.h"
#include "core/ops/kernel_dispatch.h"
#include "core/ops/operands.h"
#include "core/ops/optimizer_operands.h"

namespace chorus {
namespace {

// Dtypes the kernels read directly; others (fp8) go through f32.
bool direct(DType d) {
  return d == DType::kF32 || d == DType::kF64 || d == DType::kBF16 || d == DType::kF16;
}

}  // namespace

double abs_pow_sum(const Tensor& x, double p) {
  CHORUS_CHECK(x.defined() && is_floating(x.dtype()), "abs_pow_sum: expected a floating tensor",
               x.defined() ? std::string(", got ") + dtype_name(x.dtype()) : std::string());
  CHORUS_CHECK(p > 0, "abs_pow_sum: p must be > 0 (or inf), got ", p);
  ops_internal::require_same_device("abs_pow_sum", {&x});
  const DType d = direct(x.dtype()) ? x.dtype() : DType::kF32;
  return CHORUS_KERNEL(cpu::abs_pow_sum_kernel)(ops_internal::contiguous_raw(x, d), p);
}

void abs_pow_sum_accumulate(const Tensor& acc, const Tensor& x, double p) {
  CHORUS_CHECK(x.defined() && is_floating(x.dtype()),
               "abs_pow_sum_accumulate: expected a floating tensor",
               x.defined() ? std::string(", got ") + dtype_name(x.dtype()) : std::string());
  CHORUS_CHECK(
      acc.defined() && acc.dtype() == DType::kF64 && acc.numel() == 1 && acc.is_contiguous(),
      "abs_pow_sum_accumulate: the accumulator must be one contiguous f64 element");
  CHORUS_CHECK(p > 0, "abs_pow_sum_accumulate: p must be > 0 (or inf), got ", p);
  ops_internal::require_same_device("abs_pow_sum_accumulate", {&acc, &x});
  if (x.numel() == 0) return;
  const DType d = direct(x.dtype()) ? x.dtype() : DType::kF32;
  CHORUS_KERNEL(cpu::abs_pow_sum_accumulate_kernel)(acc, ops_internal::contiguous_raw(x, d), p);
}

void scale_(const Tensor& x, double factor) {
  CHORUS_CHECK(x.defined() && is_floating(x.dtype()), "scale_: expected a floating tensor",
               x.defined() ? std::string(", got ") + dtype_name(x.dtype()) : std::string());
  ops_internal::require_same_device("scale_", {&x});
  if (x.numel() == 0) return;
  if (direct(x.dtype())) {
    const ops_internal::InPlaceOperand work(x);
    CHORUS_KERNEL(cpu::scale_kernel)(work.work(), factor);
    work.finish();
  } else {
    const Tensor f32 = ops_internal::contiguous_raw(x, DType::kF32);  // a fresh copy
    CHORUS_KERNEL(cpu::scale_kernel)(f32, factor);
    x.copy_(f32);
  }
}

}  // namespace chorus
