// Row primitives shared by the CPU kernels (softmax, cross-entropy, norms, reductions): a row
// is `n` contiguous elements. All are always-inline templates over float/double built on
// simd.h, so they compile into the cloned kernel entry points that call them. Internal to
// core/ops/cpu.
#pragma once

#include <cstdint>
#include <limits>

#include "core/ops/cpu/simd.h"

namespace chorus::cpu {

template <class T>
constexpr T kNegInf = -std::numeric_limits<T>::infinity();

// max over a row; -inf for an empty row. NaNs are not propagated (callers that need them
// check separately).
template <class T>
CHORUS_SIMD_INLINE T row_max(const T* x, int64_t n) {
  using namespace simd;
  constexpr int64_t L = kLanes<T>;
  Vec<T> m0 = splat(kNegInf<T>), m1 = m0;
  int64_t j = 0;
  for (; j + 2 * L <= n; j += 2 * L) {
    m0 = vmax(m0, load(x + j));
    m1 = vmax(m1, load(x + j + L));
  }
  if (j + L <= n) m0 = vmax(m0, load(x + j)), j += L;
  if (j < n) m1 = vmax(m1, load_partial(x + j, n - j, kNegInf<T>));
  return hmax(vmax(m0, m1));
}

// Σ exp(x - m) over a row, also storing the exponentials in y when kStore, so that exp runs
// once per element. Tail lanes load -inf, whose exponential is 0. Blocks of 4096
// elements are summed in vectors and the block sums in double, which keeps long rows
// accurate.
template <bool kStore, class T>
CHORUS_SIMD_INLINE T row_exp_sum(const T* x, T* y, int64_t n, T m) {
  using namespace simd;
  constexpr int64_t L = kLanes<T>, kBlock = 4096;
  const Vec<T> mv = splat(m);
  double total = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = b + kBlock < n ? b + kBlock : n;
    // One vector per iteration: exp has no loop-carried dependency, so out-of-order
    // execution overlaps iterations anyway, and unrolling would spill its constants.
    Vec<T> s{};
    int64_t j = b;
    for (; j + L <= e; j += L) {
      const Vec<T> v = exp(load(x + j) - mv);
      if constexpr (kStore) store(y + j, v);
      s += v;
    }
    if (j < e) {
      const Vec<T> v = exp(load_partial(x + j, e - j, kNegInf<T>) - mv);
      if constexpr (kStore) store_partial(y + j, v, e - j);
      s += v;
    }
    total += hsum(s);
  }
  return static_cast<T>(total);
}

// Σ (x - shift) or Σ (x - shift)² over a row, with four vector accumulators per block of 4096
// elements and the block sums in double. Tail lanes are padded with `shift` (adding 0).
template <bool kSquare, class T>
CHORUS_SIMD_INLINE double row_moment(const T* x, int64_t n, T shift) {
  using namespace simd;
  constexpr int64_t L = kLanes<T>, kBlock = 4096;
  const Vec<T> sv = splat(shift);
  auto term = [&](Vec<T> v) CHORUS_SIMD_LAMBDA {
    v -= sv;
    if constexpr (kSquare) v *= v;
    return v;
  };
  double total = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = b + kBlock < n ? b + kBlock : n;
    Vec<T> a0{}, a1{}, a2{}, a3{};
    int64_t j = b;
    for (; j + 4 * L <= e; j += 4 * L) {
      a0 += term(load(x + j));
      a1 += term(load(x + j + L));
      a2 += term(load(x + j + 2 * L));
      a3 += term(load(x + j + 3 * L));
    }
    for (; j + L <= e; j += L) a0 += term(load(x + j));
    if (j < e) a1 += term(load_partial(x + j, e - j, shift));
    total += hsum((a0 + a1) + (a2 + a3));
  }
  return total;
}

}  // namespace chorus::cpu
