#include "core/ops/cpu/grad_clip_kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/ops/cpu/optimizer_access.h"
#include "core/tensor/parallel.h"

namespace chorus::cpu {
namespace {

// Fixed-size blocks, summed in order afterwards: the same bits for any number of threads.
constexpr int64_t kBlock = 4096;

// max that keeps NaN (std::max would drop it depending on argument order).
double nan_max(double a, double b) { return (std::isnan(a) || a > b) ? a : b; }

template <class F>
double block_reduce(int64_t n, F block_value, bool use_max) {
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> partial(static_cast<size_t>(blocks));
  parallel_for(0, blocks, 4, [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b)
      partial[b] = block_value(b * kBlock, std::min(n, (b + 1) * kBlock));
  });
  double acc = 0.0;
  for (double v : partial) acc = use_max ? nan_max(acc, v) : acc + v;
  return acc;
}

}  // namespace

double abs_pow_sum_kernel(const Tensor& x, double p) {
  const int64_t n = x.numel();
  if (n == 0) return 0.0;
  double result = 0.0;
  optim_access::with_grad_loader<double>(x, [&](auto load) {
    if (std::isinf(p)) {
      result = block_reduce(
          n,
          [&](int64_t lo, int64_t hi) {
            double m = 0.0;
            for (int64_t i = lo; i < hi; ++i) m = nan_max(m, std::fabs(load(i)));
            return m;
          },
          true);
    } else if (p == 2.0) {
      result = block_reduce(
          n,
          [&](int64_t lo, int64_t hi) {
            double s = 0.0;
            for (int64_t i = lo; i < hi; ++i) s += load(i) * load(i);
            return s;
          },
          false);
    } else if (p == 1.0) {
      result = block_reduce(
          n,
          [&](int64_t lo, int64_t hi) {
            double s = 0.0;
            for (int64_t i = lo; i < hi; ++i) s += std::fabs(load(i));
            return s;
          },
          false);
    } else {
      result = block_reduce(
          n,
          [&](int64_t lo, int64_t hi) {
            double s = 0.0;
            for (int64_t i = lo; i < hi; ++i) s += std::pow(std::fabs(load(i)), p);
            return s;
          },
          false);
    }
  });
  return result;
}

namespace {
template <class T, class Load, class Store>
void scale_loop(int64_t n, T factor, Load load, Store store) {
  parallel_for(0, n, kElementwiseGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) store(i, load(i) * factor);
  });
}
}  // namespace

void scale_kernel(const Tensor& x, double factor) {
  const int64_t n = x.numel();
  void* base = x.raw_data();
  switch (x.dtype()) {
    case DType::kF32: {
      float* d = static_cast<float*>(base);
      return scale_loop<float>(
          n, static_cast<float>(factor), [d](int64_t i) { return d[i]; },
          [d](int64_t i, float v) { d[i] = v; });
    }
    case DType::kF64: {
      double* d = static_cast<double*>(base);
      return scale_loop<double>(
          n, factor, [d](int64_t i) { return d[i]; }, [d](int64_t i, double v) { d[i] = v; });
    }
    case DType::kBF16: {
      uint16_t* d = static_cast<uint16_t*>(base);
      return scale_loop<float>(
          n, static_cast<float>(factor), [d](int64_t i) { return bf16_to_float(d[i]); },
          [d](int64_t i, float v) { d[i] = float_to_bf16(v); });
    }
    case DType::kF16: {
      uint16_t* d = static_cast<uint16_t*>(base);
      return scale_loop<float>(
          n, static_cast<float>(factor), [d](int64_t i) { return f16_to_float(d[i]); },
          [d](int64_t i, float v) { d[i] = float_to_f16(v); });
    }
    default:
      CHORUS_CHECK(false, "scale_ kernel: unsupported dtype ", dtype_name(x.dtype()));
  }
}

void abs_pow_sum_accumulate_kernel(const Tensor& acc, const Tensor& x, double p) {
  const double part = abs_pow_sum_kernel(x, p);
  double& a = acc.data<double>()[0];
  a = std::isinf(p) ? nan_max(part, a) : a + part;
}

}  // namespace chorus::cpu
