#include "modalities/audio/fft.h"

#include <cmath>
#include <numbers>

#include "core/tensor/error.h"

namespace chorus::audio {

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

// Combines p interleaved sub-transforms of length m into one of length p * m.
void Fft::butterfly(std::complex<double>* out, int fstride, int m, int p) const {
  if (p == 1) return;
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
        acc += s[q] * twiddles_[tw];
      }
      out[k] = acc;
    }
  }
}

}  // namespace chorus::audio
