// Fixed-width SIMD for the CPU row kernels, through GCC/Clang vector extensions.
//
// Why: softmax, cross-entropy and the norms are bound by exp and by short arithmetic over
// contiguous rows. The build uses -O2 without -march flags (so the library runs on any
// x86-64), which leaves such loops scalar. Written with explicit 32-byte vectors, the same
// source compiles to AVX2+FMA code in the x86-64-v3 clone of a kernel entry point
// (CHORUS_SIMD_CLONES; the loader picks the clone once per process) and to pairs of SSE2
// instructions in the baseline clone.
//
// How to use: write the kernel body as a CHORUS_SIMD_INLINE template over T (float/double)
// using Vec<T>, and call it from thin non-template entry points, one per dtype, marked
// CHORUS_SIMD_CLONES. Always-inline bodies are compiled with their caller's target, so the
// whole loop nest lands in each clone. Internal to core/ops/cpu.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

// Passing 32-byte vectors by value in baseline x86-64 code changes the calling convention
// (-Wpsabi). Every function here is always inlined, so no such call exists; silence the note
// for the including kernel file too, which defines its own always-inline helpers.
#pragma GCC diagnostic ignored "-Wpsabi"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define CHORUS_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define CHORUS_SIMD_CLONES
#endif
#define CHORUS_SIMD_INLINE inline __attribute__((always_inline))

namespace chorus::cpu::simd {

template <class T>
struct VecTraits;
template <>
struct VecTraits<float> {
  typedef float V __attribute__((vector_size(32)));
  typedef int32_t I __attribute__((vector_size(32)));
  static constexpr int64_t kLanes = 8;
};
template <>
struct VecTraits<double> {
  typedef double V __attribute__((vector_size(32)));
  typedef int64_t I __attribute__((vector_size(32)));
  static constexpr int64_t kLanes = 4;
};

template <class T>
using Vec = typename VecTraits<T>::V;
template <class T>
inline constexpr int64_t kLanes = VecTraits<T>::kLanes;

template <class T>
CHORUS_SIMD_INLINE Vec<T> splat(T v) {
  return Vec<T>{} + v;
}

// Unaligned loads and stores (memcpy compiles to a single vector move).
template <class T>
CHORUS_SIMD_INLINE Vec<T> load(const T* p) {
  Vec<T> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class T>
CHORUS_SIMD_INLINE void store(T* p, Vec<T> v) {
  std::memcpy(p, &v, sizeof v);
}
// The first `n` (< lanes) elements at p; the other lanes hold `fill`. For row tails, so that
// every element of a row goes through the same vector code.
template <class T>
CHORUS_SIMD_INLINE Vec<T> load_partial(const T* p, int64_t n, T fill) {
  Vec<T> v = splat(fill);
  std::memcpy(&v, p, static_cast<size_t>(n) * sizeof(T));
  return v;
}
template <class T>
CHORUS_SIMD_INLINE void store_partial(T* p, Vec<T> v, int64_t n) {
  std::memcpy(p, &v, static_cast<size_t>(n) * sizeof(T));
}

// `n` lanes at p: all of them when kFull (n is then kLanes), else the first n (the rest of the
// vector holds `fill`). Lets one loop body serve a row's full vectors and its tail.
template <bool kFull, class T>
CHORUS_SIMD_INLINE Vec<T> load_n(const T* p, int64_t n, T fill = T(0)) {
  if constexpr (kFull) return load(p);
  return load_partial(p, n, fill);
}
template <bool kFull, class T>
CHORUS_SIMD_INLINE void store_n(T* p, Vec<T> v, int64_t n) {
  if constexpr (kFull) return store(p, v);
  store_partial(p, v, n);
}

// Calls body.template operator()<true>(j, kLanes) for each full vector of [0, n) and
// body.template operator()<false>(j, n - j) for the tail. `body` should be a lambda marked
// CHORUS_SIMD_LAMBDA so that it is compiled into the (cloned) caller.
template <class T, class Body>
CHORUS_SIMD_INLINE void for_each_vec(int64_t n, Body&& body) {
  int64_t j = 0;
  for (; j + kLanes<T> <= n; j += kLanes<T>) body.template operator()<true>(j, kLanes<T>);
  if (j < n) body.template operator()<false>(j, n - j);
}
#define CHORUS_SIMD_LAMBDA __attribute__((always_inline))

// The functions below take any vector type V (T is not deducible from Vec<T>).
template <class V>
using ElemOf = std::remove_cvref_t<decltype(std::declval<V>()[0])>;

template <class V>
CHORUS_SIMD_INLINE V vmax(V a, V b) {
  return a > b ? a : b;
}
template <class V>
CHORUS_SIMD_INLINE V vmin(V a, V b) {
  return a < b ? a : b;
}

template <class V>
CHORUS_SIMD_INLINE ElemOf<V> hsum(V v) {
  ElemOf<V> s = 0;
  for (int64_t i = 0; i < kLanes<ElemOf<V>>; ++i) s += v[i];
  return s;
}
template <class V>
CHORUS_SIMD_INLINE ElemOf<V> hmax(V v) {
  ElemOf<V> m = v[0];
  for (int64_t i = 1; i < kLanes<ElemOf<V>>; ++i) m = v[i] > m ? v[i] : m;
  return m;
}

// exp for 8 floats: Cephes-style range reduction x = n·ln2 + r, |r| <= ln2/2, a degree-7
// polynomial for e^r and 2^n built in the exponent bits; within 2 ulp over the normal range.
// The only special-casing is a clamp of x to [-88, 88.8], chosen so that the exponent field
// itself handles the ends: n = -127 gives a zero scale (exp(-inf) = 0; results below about
// 2^-126 flush to zero) and n = 128 gives an infinite one (overflow from x > 88.38, a little
// before the true limit 88.72). The clamp is written so that NaN passes through it and
// propagates. The kernels call it on x - max(x) <= 0.
CHORUS_SIMD_INLINE Vec<float> exp(Vec<float> x) {
  using V = Vec<float>;
  using I = VecTraits<float>::I;
  const V lo = splat(-88.0f), hi = splat(88.8f);
  V xc = lo > x ? lo : x;  // false for NaN: keeps it
  xc = hi < xc ? hi : xc;
  // Adding 1.5·2^23 rounds x/ln2 to an integer held in the low mantissa bits.
  constexpr float kShift = 12582912.0f;
  const V t = xc * 1.44269504088896341f + kShift;
  const V n = t - kShift;
  I ni;
  std::memcpy(&ni, &t, sizeof ni);
  ni -= 0x4B400000;  // the bit pattern of kShift
  // ln2 split in two so that n·C1 is exact.
  const V r = xc - n * 0.693359375f + n * 2.12194440e-4f;
  V p = splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const V y = p * (r * r) + r + 1.0f;
  const I bits = (ni + 127) << 23;  // n in [-127, 128]: the biased exponent 0..255
  V scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return y * scale;
}

// Doubles (the f64 path serves gradient checks, where accuracy beats speed): libm per lane.
CHORUS_SIMD_INLINE Vec<double> exp(Vec<double> x) {
  for (int64_t i = 0; i < kLanes<double>; ++i) x[i] = std::exp(x[i]);
  return x;
}

}  // namespace chorus::cpu::simd
