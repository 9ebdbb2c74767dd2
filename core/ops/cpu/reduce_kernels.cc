#include "core/ops/cpu/reduce_kernels.h"

#include <cmath>
#include <limits>

#include "core/ops/cpu/row_grain.h"
#include "core/ops/cpu/row_ops.h"
#include "core/tensor/dispatch.h"
#include "core/tensor/parallel.h"

namespace chorus::cpu {
namespace {

using simd::for_each_vec;
using simd::load_n;
using simd::splat;
using simd::Vec;

// Runs body(row pointer, row index) over all rows in parallel.
template <class T, class Body>
void for_rows(const Tensor& rows, Body&& body) {
  const int64_t outer = rows.shape()[0], inner = rows.shape()[1];
  const T* x = rows.data<T>();
  parallel_for(0, outer, rows_per_task(inner),
               [&](int64_t r0, int64_t r1) { body(x, r0, r1, inner); });
}

// ---------------------------------------------------------------- extreme values

// a replaces b when it is more extreme or NaN; a NaN already in b stays (NaN propagates).
template <bool kMax, class V>
CHORUS_SIMD_INLINE V pick(V a, V b) {
  if constexpr (kMax) return ((a > b) | (a != a)) ? a : b;
  return ((a < b) | (a != a)) ? a : b;
}

template <bool kMax, class T>
CHORUS_SIMD_INLINE T row_extreme(const T* x, int64_t n) {
  constexpr int64_t L = simd::kLanes<T>;
  constexpr T kIdentity = kMax ? kNegInf<T> : -kNegInf<T>;
  // Four accumulators hide the compare-and-select latency.
  Vec<T> m0 = splat(kIdentity), m1 = m0, m2 = m0, m3 = m0;
  int64_t j = 0;
  for (; j + 4 * L <= n; j += 4 * L) {
    m0 = pick<kMax>(simd::load(x + j), m0);
    m1 = pick<kMax>(simd::load(x + j + L), m1);
    m2 = pick<kMax>(simd::load(x + j + 2 * L), m2);
    m3 = pick<kMax>(simd::load(x + j + 3 * L), m3);
  }
  for (; j + L <= n; j += L) m0 = pick<kMax>(simd::load(x + j), m0);
  if (j < n) m1 = pick<kMax>(simd::load_partial(x + j, n - j, kIdentity), m1);
  const Vec<T> m = pick<kMax>(pick<kMax>(m0, m1), pick<kMax>(m2, m3));
  T best = m[0];
  for (int64_t i = 1; i < L; ++i) {
    const bool better = kMax ? m[i] > best : m[i] < best;
    if (best == best && (better || m[i] != m[i])) best = m[i];
  }
  return best;
}

// Index of the first element equal to `best` (the first NaN when best is NaN), which exists.
// Whole vectors are compared, and the lanes inspected only in the 64-element block that
// holds the hit.
template <class T>
CHORUS_SIMD_INLINE int64_t first_index(const T* row, int64_t n, T best) {
  constexpr int64_t L = simd::kLanes<T>, kBlock = 64;
  const bool nan = best != best;
  const Vec<T> bv = splat(best);
  int64_t b = 0;
  for (; b + kBlock <= n; b += kBlock) {
    Vec<T> v = simd::load(row + b);
    auto hit = nan ? v != v : v == bv;
    for (int64_t j = b + L; j < b + kBlock; j += L) {
      v = simd::load(row + j);
      hit |= nan ? v != v : v == bv;
    }
    bool any = false;
    for (int64_t i = 0; i < L; ++i) any |= hit[i] != 0;
    if (any) break;
  }
  for (int64_t j = b;; ++j) {
    if (nan ? row[j] != row[j] : row[j] == best) return j;
  }
}

template <bool kMax, class T>
CHORUS_SIMD_INLINE void extreme_range(const T* x, T* values, int64_t* indices, int64_t r0,
                                      int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) {
    const T* row = x + r * n;
    const T best = row_extreme<kMax>(row, n);
    if (values) values[r] = best;
    if (indices) indices[r] = first_index(row, n, best);
  }
}

CHORUS_SIMD_CLONES void extreme_rows_of(bool is_max, const float* x, float* v, int64_t* idx,
                                        int64_t r0, int64_t r1, int64_t n) {
  is_max ? extreme_range<true>(x, v, idx, r0, r1, n) : extreme_range<false>(x, v, idx, r0, r1, n);
}
CHORUS_SIMD_CLONES void extreme_rows_of(bool is_max, const double* x, double* v, int64_t* idx,
                                        int64_t r0, int64_t r1, int64_t n) {
  is_max ? extreme_range<true>(x, v, idx, r0, r1, n) : extreme_range<false>(x, v, idx, r0, r1, n);
}

// ---------------------------------------------------------------- variance and log-sum-exp

template <class T>
CHORUS_SIMD_INLINE void var_range(const T* x, T* out, int64_t r0, int64_t r1, int64_t n,
                                  double divisor) {
  for (int64_t r = r0; r < r1; ++r) {
    const T mean = static_cast<T>(row_moment<false>(x + r * n, n, T(0)) / static_cast<double>(n));
    out[r] = static_cast<T>(row_moment<true>(x + r * n, n, mean) / divisor);
  }
}

template <class T>
CHORUS_SIMD_INLINE void logsumexp_range(const T* x, T* out, int64_t r0, int64_t r1, int64_t n) {
  for (int64_t r = r0; r < r1; ++r) {
    const T m = row_max(x + r * n, n);
    out[r] = std::isinf(m) ? m : m + std::log(row_exp_sum<false, T>(x + r * n, nullptr, n, m));
  }
}

CHORUS_SIMD_CLONES void var_rows_of(const float* x, float* out, int64_t r0, int64_t r1, int64_t n,
                                    double divisor) {
  var_range(x, out, r0, r1, n, divisor);
}
CHORUS_SIMD_CLONES void var_rows_of(const double* x, double* out, int64_t r0, int64_t r1, int64_t n,
                                    double divisor) {
  var_range(x, out, r0, r1, n, divisor);
}
CHORUS_SIMD_CLONES void logsumexp_rows_of(const float* x, float* out, int64_t r0, int64_t r1,
                                          int64_t n) {
  logsumexp_range(x, out, r0, r1, n);
}
CHORUS_SIMD_CLONES void logsumexp_rows_of(const double* x, double* out, int64_t r0, int64_t r1,
                                          int64_t n) {
  logsumexp_range(x, out, r0, r1, n);
}

// ---------------------------------------------------------------- norms

template <class T>
CHORUS_SIMD_INLINE Vec<T> vabs(Vec<T> v) {
  return v < T(0) ? -v : v;  // NaN stays NaN
}

template <class T>
CHORUS_SIMD_INLINE void norm_range(const T* x, T* out, int64_t r0, int64_t r1, int64_t n,
                                   double p) {
  for (int64_t r = r0; r < r1; ++r) {
    const T* row = x + r * n;
    double result;
    if (p == 2.0) {
      result = std::sqrt(row_moment<true>(row, n, T(0)));
    } else if (p == 1.0) {
      Vec<T> s{};
      for_each_vec<T>(n, [&]<bool kFull>(int64_t j, int64_t w)
                             CHORUS_SIMD_LAMBDA { s += vabs<T>(load_n<kFull>(row + j, w)); });
      result = simd::hsum(s);
    } else if (std::isinf(p)) {
      // max |x| = max(max x, -min x); min |x| needs the absolute values themselves.
      Vec<T> m = splat(p > 0 ? T(0) : -kNegInf<T>);
      for_each_vec<T>(n, [&]<bool kFull>(int64_t j, int64_t w) CHORUS_SIMD_LAMBDA {
        const Vec<T> a = vabs<T>(load_n<kFull>(row + j, w, p > 0 ? T(0) : -kNegInf<T>));
        m = p > 0 ? pick<true>(a, m) : pick<false>(a, m);
      });
      T best = m[0];
      for (int64_t i = 1; i < simd::kLanes<T>; ++i) {
        const bool better = p > 0 ? m[i] > best : m[i] < best;
        if (best == best && (better || m[i] != m[i])) best = m[i];
      }
      result = best;
    } else if (p == 0.0) {
      int64_t count = 0;
      for (int64_t j = 0; j < n; ++j) count += row[j] != T(0);
      result = static_cast<double>(count);
    } else {
      double s = 0;
      for (int64_t j = 0; j < n; ++j) s += std::pow(std::fabs(static_cast<double>(row[j])), p);
      result = std::pow(s, 1.0 / p);
    }
    out[r] = static_cast<T>(result);
  }
}

CHORUS_SIMD_CLONES void norm_rows_of(const float* x, float* out, int64_t r0, int64_t r1, int64_t n,
                                     double p) {
  norm_range(x, out, r0, r1, n, p);
}
CHORUS_SIMD_CLONES void norm_rows_of(const double* x, double* out, int64_t r0, int64_t r1,
                                     int64_t n, double p) {
  norm_range(x, out, r0, r1, n, p);
}

}  // namespace

void sum_rows(const Tensor& out, const Tensor& rows) {
  const int64_t outer = rows.shape()[0], inner = rows.shape()[1];
  CHORUS_DISPATCH_FLOAT(rows.dtype(), T, [&] {
    const T* x = rows.data<T>();
    T* o = out.data<T>();
    parallel_for(0, outer, rows_per_task(inner), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T* row = x + r * inner;
        // Four independent double accumulators: accurate and vectorisable.
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int64_t j = 0;
        for (; j + 4 <= inner; j += 4) {
          s0 += row[j];
          s1 += row[j + 1];
          s2 += row[j + 2];
          s3 += row[j + 3];
        }
        for (; j < inner; ++j) s0 += row[j];
        o[r] = static_cast<T>((s0 + s1) + (s2 + s3));
      }
    });
  });
}

void extreme_rows(const Tensor& values, const Tensor& indices, const Tensor& rows, bool is_max) {
  CHORUS_DISPATCH_FLOAT(rows.dtype(), T, [&] {
    T* v = values.defined() ? values.data<T>() : nullptr;
    int64_t* idx = indices.defined() ? indices.data<int64_t>() : nullptr;
    for_rows<T>(rows, [&](const T* x, int64_t r0, int64_t r1, int64_t n) {
      extreme_rows_of(is_max, x, v, idx, r0, r1, n);
    });
  });
}

void var_rows(const Tensor& out, const Tensor& rows, int64_t correction) {
  const double divisor = std::max<double>(static_cast<double>(rows.shape()[1] - correction), 0.0);
  CHORUS_DISPATCH_FLOAT(rows.dtype(), T, [&] {
    T* o = out.data<T>();
    for_rows<T>(rows, [&](const T* x, int64_t r0, int64_t r1, int64_t n) {
      var_rows_of(x, o, r0, r1, n, divisor);
    });
  });
}

void logsumexp_rows(const Tensor& out, const Tensor& rows) {
  CHORUS_DISPATCH_FLOAT(rows.dtype(), T, [&] {
    T* o = out.data<T>();
    for_rows<T>(rows, [&](const T* x, int64_t r0, int64_t r1, int64_t n) {
      logsumexp_rows_of(x, o, r0, r1, n);
    });
  });
}

void norm_rows(const Tensor& out, const Tensor& rows, double p) {
  CHORUS_DISPATCH_FLOAT(rows.dtype(), T, [&] {
    T* o = out.data<T>();
    for_rows<T>(rows, [&](const T* x, int64_t r0, int64_t r1, int64_t n) {
      norm_rows_of(x, o, r0, r1, n, p);
    });
  });
}

void scatter_along_dim(const Tensor& gx, const Tensor& g, const Tensor& indices, int64_t pre,
                       int64_t n, int64_t post) {
  const int64_t* idx = indices.data<int64_t>();
  CHORUS_DISPATCH_FLOAT(g.dtype(), T, [&] {
    const T* pg = g.data<T>();
    T* po = gx.data<T>();
    parallel_for(0, pre, rows_per_task(post), [&](int64_t a0, int64_t a1) {
      for (int64_t a = a0; a < a1; ++a) {
        for (int64_t b = 0; b < post; ++b) {
          po[(a * n + idx[a * post + b]) * post + b] = pg[a * post + b];
        }
      }
    });
  });
}

}  // namespace chorus::cpu
