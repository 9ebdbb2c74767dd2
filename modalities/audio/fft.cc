#include "modalities/audio/fft.h"

#include <cmath>
#include <numbers>

#include "core/tensor/error.h"

namespace chorus::audio {
namespace {

// a * b written out: std::complex's operator* must handle inf/NaN per C99 Annex G, which GCC
// does through a library call (__muldc3) per product unless -ffast-math. Inputs here are finite
// by construction, so the plain formula is exact enough and several times cheaper.
inline std::complex<double> mul(std::complex<double> a, std::complex<double> b) {
  return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
}

}  // namespace

Fft::Fft(int n) : n_(n) {
  CHORUS_CHECK(n >= 1, "Fft: size must be >= 1, got ", n);
  twiddles_.resize(n);
  for (int i = 0; i < n; ++i) {
    const double phase = -2.0 * std::numbers::pi * i / n;
    twiddles_[i] = {std::cos(phase), std::sin(phase)};
  }
  // Factor 4 first (cheapest per point), then 2, 3, 5, then whatever primes remain.
  int rest = n, p = 4;
  while (rest > 1) {
    while (rest % p != 0) {
      p = p == 4 ? 2 : p == 2 ? 3 : p + 2;
      if (p * p > rest) p = rest;
    }
    rest /= p;
    factors_.push_back(p);
    factors_.push_back(rest);
  }
  if (factors_.empty()) factors_ = {1, 1};
}

void Fft::forward(const std::complex<double>* in, std::complex<double>* out) const {
  work(out, in, 1, factors_.data());
}

void Fft::work(std::complex<double>* out, const std::complex<double>* in, int fstride,
               const int* factors) const {
  const int p = factors[0], m = factors[1];
  std::complex<double>* const begin = out;
  const std::complex<double>* const end = out + static_cast<ptrdiff_t>(p) * m;
  if (m == 1) {
    for (; out != end; ++out, in += fstride) *out = *in;
  } else {
    for (; out != end; out += m, in += fstride) work(out, in, fstride * p, factors + 2);
  }
  butterfly(begin, fstride, m, p);
}

// Combines p interleaved sub-transforms of length m into one of length p * m. Output k = u + j*m
// (u < m, j < p) is sum_q s_q * w^(q*k*fstride) with s_q = out[u + q*m]: a pre-twiddle of s_q by
// w^(q*u*fstride), then a p-point DFT. Radices 4 and 5 (all of Whisper's 400) have their DFT
// written out; other radices use the generic O(p^2) loop.
void Fft::butterfly(std::complex<double>* out, int fstride, int m, int p) const {
  if (p == 1) return;
  if (p == 4) return butterfly4(out, fstride, m);
  if (p == 5) return butterfly5(out, fstride, m);
  std::complex<double> scratch[64];
  std::vector<std::complex<double>> big;
  std::complex<double>* s = scratch;
  if (p > 64) {
    big.resize(p);
    s = big.data();
  }
  for (int u = 0; u < m; ++u) {
    for (int q = 0, k = u; q < p; ++q, k += m) s[q] = out[k];
    for (int q1 = 0, k = u; q1 < p; ++q1, k += m) {
      std::complex<double> acc = s[0];
      int tw = 0;
      for (int q = 1; q < p; ++q) {
        tw += fstride * k;
        if (tw >= n_) tw %= n_;
        acc += mul(s[q], twiddles_[tw]);
      }
      out[k] = acc;
    }
  }
}

// The 4-point DFT needs no multiplications: w4 = -i.
void Fft::butterfly4(std::complex<double>* out, int fstride, int m) const {
  for (int u = 0; u < m; ++u) {
    const std::complex<double> s0 = out[u];
    const std::complex<double> s1 = mul(out[u + m], twiddles_[u * fstride]);
    const std::complex<double> s2 = mul(out[u + 2 * m], twiddles_[2 * u * fstride]);
    const std::complex<double> s3 = mul(out[u + 3 * m], twiddles_[3 * u * fstride]);
    const std::complex<double> t0 = s0 + s2, t1 = s0 - s2, t2 = s1 + s3, t3 = s1 - s3;
    const std::complex<double> minus_i_t3{t3.imag(), -t3.real()};
    out[u] = t0 + t2;
    out[u + m] = t1 + minus_i_t3;
    out[u + 2 * m] = t0 - t2;
    out[u + 3 * m] = t1 - minus_i_t3;
  }
}

// The 5-point DFT through the symmetric pairs a = s1 + s4, b = s1 - s4, c = s2 + s3,
// d = s2 - s3, with w5^j = cos(2 pi j / 5) - i sin(2 pi j / 5).
void Fft::butterfly5(std::complex<double>* out, int fstride, int m) const {
  const double c1 = std::cos(2 * std::numbers::pi / 5), c2 = std::cos(4 * std::numbers::pi / 5);
  const double s1n = std::sin(2 * std::numbers::pi / 5), s2n = std::sin(4 * std::numbers::pi / 5);
  for (int u = 0; u < m; ++u) {
    const std::complex<double> x0 = out[u];
    const std::complex<double> x1 = mul(out[u + m], twiddles_[u * fstride]);
    const std::complex<double> x2 = mul(out[u + 2 * m], twiddles_[2 * u * fstride]);
    const std::complex<double> x3 = mul(out[u + 3 * m], twiddles_[3 * u * fstride]);
    const std::complex<double> x4 = mul(out[u + 4 * m], twiddles_[4 * u * fstride]);
    const std::complex<double> a = x1 + x4, b = x1 - x4, c = x2 + x3, d = x2 - x3;
    const std::complex<double> r1 = x0 + c1 * a + c2 * c, r2 = x0 + c2 * a + c1 * c;
    const std::complex<double> j1 = s1n * b + s2n * d, j2 = s2n * b - s1n * d;
    const std::complex<double> minus_i_j1{j1.imag(), -j1.real()};
    const std::complex<double> minus_i_j2{j2.imag(), -j2.real()};
    out[u] = x0 + a + c;
    out[u + m] = r1 + minus_i_j1;
    out[u + 4 * m] = r1 - minus_i_j1;
    out[u + 2 * m] = r2 + minus_i_j2;
    out[u + 3 * m] = r2 - minus_i_j2;
  }
}

}  // namespace chorus::audio
