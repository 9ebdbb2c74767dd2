#include "modalities/audio/resample.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>

#include "core/tensor/error.h"

namespace chorus::audio {
namespace {

constexpr int kZeroCrossings = 16;
constexpr double kCutoff = 0.97;
constexpr double kKaiserBeta = 9.0;
// Rates with a huge reduced ratio (e.g. 44101 Hz) round the position to 1/4096 of a sample.
constexpr int64_t kMaxPhases = 4096;

// Modified Bessel function of the first kind, order 0 (power series; converges fast here).
double bessel_i0(double x) {
  double sum = 1, term = 1;
  for (int k = 1; k < 50; ++k) {
    term *= (x / (2 * k)) * (x / (2 * k));
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

}  // namespace

Resampler::Resampler(int in_rate, int out_rate) : in_rate_(in_rate), out_rate_(out_rate) {
  CHORUS_CHECK(in_rate > 0 && out_rate > 0, "Resampler: rates must be positive, got ", in_rate,
               " -> ", out_rate);
  const int64_t g = std::gcd(in_rate, out_rate);
  up_ = out_rate / g;
  down_ = in_rate / g;
  phases_ = static_cast<int>(std::min(up_, kMaxPhases));
  // Cutoff in cycles per input sample (relative to the input Nyquist = 1).
  const double fc = kCutoff * std::min(1.0, static_cast<double>(out_rate) / in_rate);
  const double half_width = kZeroCrossings / fc;  // in input samples
  half_taps_ = static_cast<int>(std::ceil(half_width));
  const int taps = 2 * half_taps_;
  table_.resize(static_cast<size_t>(phases_) * taps);
  const double i0_beta = bessel_i0(kKaiserBeta);
  for (int p = 0; p < phases_; ++p) {
    const double frac = static_cast<double>(p) / phases_;
    double sum = 0;
    float* row = &table_[static_cast<size_t>(p) * taps];
    for (int k = 0; k < taps; ++k) {
      // Tap k reads input (floor(pos) - half_taps + 1 + k); its distance from pos:
      const double d = (k - half_taps_ + 1) - frac;
      double h = 0;
      if (std::abs(d) < half_width) {
        const double arg = std::numbers::pi * fc * d;
        const double sinc = d == 0 ? 1.0 : std::sin(arg) / arg;
        const double r = d / half_width;
        h = fc * sinc * bessel_i0(kKaiserBeta * std::sqrt(1 - r * r)) / i0_beta;
      }
      row[k] = static_cast<float>(h);
      sum += h;
    }
    for (int k = 0; k < taps; ++k) row[k] = static_cast<float>(row[k] / sum);
  }
}

std::vector<float> Resampler::process(const float* in, int64_t n) const {
  if (in_rate_ == out_rate_) return std::vector<float>(in, in + n);
  const int64_t n_out = (n * up_ + down_ - 1) / down_;
  std::vector<float> out(static_cast<size_t>(n_out));
  const int taps = 2 * half_taps_;
  for (int64_t j = 0; j < n_out; ++j) {
    // Exact position j * down / up = base + rem / up.
    const int64_t num = j * down_;
    const int64_t base = num / up_;
    const int64_t rem = num % up_;
    const int phase = static_cast<int>(up_ == phases_ ? rem : rem * phases_ / up_);
    const float* h = &table_[static_cast<size_t>(phase) * taps];
    const int64_t first = base - half_taps_ + 1;
    double acc = 0;
    if (first >= 0 && first + taps <= n) {
      const float* x = in + first;
      for (int k = 0; k < taps; ++k) acc += h[k] * x[k];
    } else {
      for (int k = 0; k < taps; ++k) {
        const int64_t i = first + k;
        if (i >= 0 && i < n) acc += h[k] * in[i];
      }
    }
    out[j] = static_cast<float>(acc);
  }
  return out;
}

}  // namespace chorus::audio
