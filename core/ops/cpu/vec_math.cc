#include "core/ops/cpu/vec_math.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace chorus::cpu::vec {
namespace {

bool has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

// ---------------------------------------------------------------- scalar (also the tails)

template <class T>
T max_scalar(const T* x, int64_t n, T m = -std::numeric_limits<T>::infinity()) {
  for (int64_t i = 0; i < n; ++i) m = x[i] > m || std::isnan(x[i]) ? x[i] : m;
  return m;
}

template <class T>
T exp_shift_sum_scalar(T* x, int64_t n, T shift) {
  T s = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - shift);
    s += x[i];
  }
  return s;
}

template <class T>
T dot_scalar(const T* x, const T* y, int64_t n) {
  T s = 0;
  for (int64_t i = 0; i < n; ++i) s += x[i] * y[i];
  return s;
}

// ---------------------------------------------------------------- AVX2 + FMA

#define CHORUS_AVX2 __attribute__((target("avx2,fma")))

CHORUS_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

CHORUS_AVX2 inline float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// exp(x): x = n·ln2 + r with |r| <= ln2/2, exp(r) by a degree-7 polynomial (Cephes expf
// coefficients), 2^n put straight into the exponent bits. Inputs below ln(FLT_MIN) give 0.
CHORUS_AVX2 inline __m256 exp256(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-87.3365447505f);
  const __m256 hi = _mm256_set1_ps(88.0f);
  const __m256 underflow = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
  const __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
  __m256 t = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(t, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), t);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i e =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  __m256 y = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
  y = _mm256_andnot_ps(underflow, y);
  return _mm256_blendv_ps(y, x, nan);
}

CHORUS_AVX2 float max_avx2(const float* x, int64_t n) {
  __m256 m0 = _mm256_set1_ps(-std::numeric_limits<float>::infinity()), m1 = m0;
  __m256 nan = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(a, b, _CMP_UNORD_Q));
    m0 = _mm256_max_ps(m0, a);
    m1 = _mm256_max_ps(m1, b);
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 a = _mm256_loadu_ps(x + i);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
    m0 = _mm256_max_ps(m0, a);
  }
  if (!_mm256_testz_ps(nan, nan)) return std::numeric_limits<float>::quiet_NaN();
  return max_scalar(x + i, n - i, hmax(_mm256_max_ps(m0, m1)));
}

CHORUS_AVX2 float exp_shift_sum_avx2(float* x, int64_t n, float shift) {
  const __m256 s = _mm256_set1_ps(shift);
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), s));
    _mm256_storeu_ps(x + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  return hsum(acc) + exp_shift_sum_scalar(x + i, n - i, shift);
}

CHORUS_AVX2 void scale_avx2(float* x, int64_t n, float s) {
  const __m256 v = _mm256_set1_ps(s);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), v));
  for (; i < n; ++i) x[i] *= s;
}

CHORUS_AVX2 void axpy_avx2(float* x, const float* y, int64_t n, float s) {
  const __m256 v = _mm256_set1_ps(s);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(x + i, _mm256_fmadd_ps(_mm256_loadu_ps(y + i), v, _mm256_loadu_ps(x + i)));
  }
  for (; i < n; ++i) x[i] += s * y[i];
}

CHORUS_AVX2 float dot_avx2(const float* x, const float* y, int64_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);
  }
  for (; i + 8 <= n; i += 8) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
  }
  return hsum(_mm256_add_ps(a0, a1)) + dot_scalar(x + i, y + i, n - i);
}

CHORUS_AVX2 void softmax_grad_avx2(float* dp, const float* p, int64_t n, float delta) {
  const __m256 d = _mm256_set1_ps(delta);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_sub_ps(_mm256_loadu_ps(dp + i), d);
    _mm256_storeu_ps(dp + i, _mm256_mul_ps(_mm256_loadu_ps(p + i), g));
  }
  for (; i < n; ++i) dp[i] = p[i] * (dp[i] - delta);
}

#undef CHORUS_AVX2

}  // namespace

float max(const float* x, int64_t n) { return has_avx2() ? max_avx2(x, n) : max_scalar(x, n); }
double max(const double* x, int64_t n) { return max_scalar(x, n); }

float exp_shift_sum(float* x, int64_t n, float shift) {
  return has_avx2() ? exp_shift_sum_avx2(x, n, shift) : exp_shift_sum_scalar(x, n, shift);
}
double exp_shift_sum(double* x, int64_t n, double shift) {
  return exp_shift_sum_scalar(x, n, shift);
}

void scale(float* x, int64_t n, float s) {
  if (has_avx2()) return scale_avx2(x, n, s);
  for (int64_t i = 0; i < n; ++i) x[i] *= s;
}
void scale(double* x, int64_t n, double s) {
  for (int64_t i = 0; i < n; ++i) x[i] *= s;
}

void add(float* x, const float* y, int64_t n) { axpy(x, y, n, 1.0f); }
void add(double* x, const double* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

void axpy(float* x, const float* y, int64_t n, float s) {
  if (has_avx2()) return axpy_avx2(x, y, n, s);
  for (int64_t i = 0; i < n; ++i) x[i] += s * y[i];
}
void axpy(double* x, const double* y, int64_t n, double s) {
  for (int64_t i = 0; i < n; ++i) x[i] += s * y[i];
}

float dot(const float* x, const float* y, int64_t n) {
  return has_avx2() ? dot_avx2(x, y, n) : dot_scalar(x, y, n);
}
double dot(const double* x, const double* y, int64_t n) { return dot_scalar(x, y, n); }

void softmax_grad(float* dp, const float* p, int64_t n, float delta) {
  if (has_avx2()) return softmax_grad_avx2(dp, p, n, delta);
  for (int64_t i = 0; i < n; ++i) dp[i] = p[i] * (dp[i] - delta);
}
void softmax_grad(double* dp, const double* p, int64_t n, double delta) {
  for (int64_t i = 0; i < n; ++i) dp[i] = p[i] * (dp[i] - delta);
}

}  // namespace chorus::cpu::vec
