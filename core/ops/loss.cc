#include "core/ops/loss.h"

#include <limits>

#include "core/autograd/node.h"
#include "core/ops/cpu/loss_kernels.h"
#include "core/ops/elementwise.h"
#include "core/ops/kernel_dispatch.h"
#include "core/ops/operands.h"
#include "core/ops/reduce.h"
#include "core/tensor/dispatch.h"

namespace chorus {

using autograd::Grads;

namespace {

// `logits` as a contiguous [n, c] buffer of `dtype` (copies only when needed).
Tensor as_matrix(const Tensor& logits, int64_t n, int64_t c, DType dtype) {
  Tensor x = ops_internal::contiguous_raw(logits, dtype);
  return x.as_strided({n, c}, {c, 1}, x.offset());
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& targets,
                     const CrossEntropyOptions& options) {
  ops_internal::require_same_device("cross_entropy", {&logits, &targets});
  CHORUS_CHECK(is_floating(logits.dtype()) && logits.dim() >= 1,
               "cross_entropy: logits must be a floating tensor [..., C], got ",
               dtype_name(logits.dtype()), " ", shape_str(logits.shape()));
  CHORUS_CHECK(targets.dtype() == DType::kI64 || targets.dtype() == DType::kI32,
               "cross_entropy: targets must be i64 or i32 class indices, got ",
               dtype_name(targets.dtype()));
  const Shape lead(logits.shape().begin(), logits.shape().end() - 1);
  CHORUS_CHECK(targets.shape() == lead, "cross_entropy: targets ", shape_str(targets.shape()),
               " do not match logits ", shape_str(logits.shape()), " (expected ", shape_str(lead),
               ")");
  const double eps = options.label_smoothing;
  CHORUS_CHECK(eps >= 0.0 && eps <= 1.0, "cross_entropy: label_smoothing ", eps,
               " is outside [0, 1]");
  const int64_t c = logits.shape().back(), n = shape_numel(lead);
  CHORUS_CHECK(c > 0 || n == 0, "cross_entropy: logits ", shape_str(logits.shape()),
               " have no classes");

  Tensor t = ops_internal::contiguous_raw(targets, DType::kI64);
  // On the host the targets are checked here. Device targets are not read back (that would wait
  // for the device in the middle of every step): the kernels give an out-of-range target a NaN
  // loss, and the mean's count of non-ignored targets stays on the device.
  const bool on_host = logits.device().is_cpu();
  int64_t count = 0;
  if (on_host) {
    const int64_t* pt = t.data<int64_t>();
    for (int64_t i = 0; i < n; ++i) {
      if (pt[i] == options.ignore_index) continue;
      CHORUS_CHECK(pt[i] >= 0 && pt[i] < c, "cross_entropy: target ", pt[i], " at position ", i,
                   " is outside [0, ", c, ") and is not ignore_index ", options.ignore_index);
      ++count;
    }
  }

  const DType compute = ops_internal::kernel_dtype(logits.dtype());
  // bf16 logits stay bf16: the kernels widen a row at a time (no f32 copy of the logits).
  const DType io = logits.dtype() == DType::kBF16 ? logits.dtype() : compute;
  Tensor x = as_matrix(logits, n, c, io);
  Tensor loss = Tensor::empty({n}, compute, logits.device());
  Tensor lse = Tensor::empty({n}, compute, logits.device());
  CHORUS_KERNEL(cpu::cross_entropy_forward)(loss, lse, x, t, options.ignore_index, eps);

  Tensor out;
  // The mean divides by the number of non-ignored targets, as a tensor on the logits' device
  // (the same ops on every device, so an emulated device gives the CPU's bits).
  Tensor count_t;
  if (options.reduction == Reduction::kNone) {
    out =
        ops_internal::cast_raw(loss.as_strided(lead, contiguous_strides(lead), 0), logits.dtype());
  } else {
    Tensor total = sum(loss);
    if (options.reduction == Reduction::kMean) {
      count_t = on_host ? Tensor::scalar(static_cast<double>(count), compute)
                        : rsub(static_cast<double>(n),
                               sum(eq(t, static_cast<double>(options.ignore_index))).to(compute));
      total = div(total, count_t);  // 0/0 = NaN when every target is ignored
    }
    out = ops_internal::cast_raw(total, logits.dtype());
  }
  // Saves the logits themselves (no copy), the targets and the per-row log-sum-exp: backward
  // recomputes the softmax with one exp per element.
  autograd::record("cross_entropy", {logits}, {out},
                   [xs = logits.detach(), t, lse, count_t, eps, ignore = options.ignore_index,
                    compute, io, n, c](const Grads& g) {
                     Tensor x = as_matrix(xs, n, c, io);
                     Tensor gx = Tensor::empty(xs.shape(), io, xs.device());
                     Tensor grad = ops_internal::contiguous_raw(g[0], compute);
                     if (count_t.defined()) grad = div(grad, count_t);
                     CHORUS_KERNEL(cpu::cross_entropy_backward)
                     (gx.as_strided({n, c}, {c, 1}, 0), grad, 1.0, x, t, lse, ignore, eps);
                     return Grads{gx};
                   });
  return out;
}

}  // namespace chorus
