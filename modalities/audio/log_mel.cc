#include "modalities/audio/log_mel.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>

#include "core/tensor/error.h"

namespace chorus::audio {
namespace {

// Slaney's auditory-toolbox mel scale (librosa htk=False): linear below 1 kHz, log above.
constexpr double kFSp = 200.0 / 3.0;
constexpr double kMinLogHz = 1000.0;
constexpr double kMinLogMel = kMinLogHz / kFSp;  // 15

double log_step() { return std::log(6.4) / 27.0; }

double hz_to_mel(double hz) {
  return hz >= kMinLogHz ? kMinLogMel + std::log(hz / kMinLogHz) / log_step() : hz / kFSp;
}
double mel_to_hz(double mel) {
  return mel >= kMinLogMel ? kMinLogHz * std::exp(log_step() * (mel - kMinLogMel)) : kFSp * mel;
}

}  // namespace

std::vector<float> mel_filterbank(int sample_rate, int n_fft, int n_mels) {
  const int bins = n_fft / 2 + 1;
  std::vector<double> fft_hz(bins);
  for (int k = 0; k < bins; ++k) fft_hz[k] = static_cast<double>(sample_rate) * k / n_fft;
  // n_mels + 2 points evenly spaced in mel between 0 and Nyquist: the filters' edges.
  const double mel_max = hz_to_mel(sample_rate / 2.0);
  std::vector<double> edge_hz(n_mels + 2);
  for (int i = 0; i < n_mels + 2; ++i) edge_hz[i] = mel_to_hz(mel_max * i / (n_mels + 1));
  std::vector<float> out(static_cast<size_t>(n_mels) * bins);
  for (int m = 0; m < n_mels; ++m) {
    const double lo = edge_hz[m], mid = edge_hz[m + 1], hi = edge_hz[m + 2];
    const double norm = 2.0 / (hi - lo);  // Slaney: constant energy per filter
    for (int k = 0; k < bins; ++k) {
      const double rising = (fft_hz[k] - lo) / (mid - lo);
      const double falling = (hi - fft_hz[k]) / (hi - mid);
      out[static_cast<size_t>(m) * bins + k] =
          static_cast<float>(std::max(0.0, std::min(rising, falling)) * norm);
    }
  }
  return out;
}

LogMel::LogMel(int n_mels) : n_mels_(n_mels), fft_(kNFft) {
  CHORUS_CHECK(n_mels >= 1 && n_mels <= 512, "LogMel: n_mels must be in [1, 512], got ", n_mels);
  window_.resize(kNFft);
  for (int i = 0; i < kNFft; ++i) {  // periodic Hann (torch.hann_window default)
    window_[i] = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * i / kNFft);
  }
  filters_ = mel_filterbank(kSampleRate, kNFft, n_mels);
  const int bins = kNFft / 2 + 1;
  band_begin_.assign(n_mels, 0);
  band_end_.assign(n_mels, 0);
  for (int m = 0; m < n_mels; ++m) {
    const float* row = &filters_[static_cast<size_t>(m) * bins];
    int b = 0, e = bins;
    while (b < bins && row[b] == 0) ++b;
    while (e > b && row[e - 1] == 0) --e;
    band_begin_[m] = b;
    band_end_[m] = e;
  }
}

LogMelResult LogMel::compute(const float* samples, int64_t n) const {
  CHORUS_CHECK(n >= kHop, "LogMel: need at least ", kHop, " samples (one 10 ms frame), got ", n);
  constexpr int pad = kNFft / 2;
  constexpr int bins = kNFft / 2 + 1;
  // Zero-extend very short clips so that reflecting 200 samples stays inside the signal.
  std::vector<float> extended;
  const float* x = samples;
  int64_t len = n;
  if (n <= pad) {
    extended.assign(samples, samples + n);
    extended.resize(pad + 1, 0.0f);
    x = extended.data();
    len = pad + 1;
  }
  auto reflected = [&](int64_t i) -> double {  // x at position i of the reflect-padded signal
    int64_t j = i - pad;
    if (j < 0) j = -j;
    if (j >= len) j = 2 * (len - 1) - j;
    return x[j];
  };

  LogMelResult result;
  result.frames = n / kHop;
  result.values.resize(static_cast<size_t>(n_mels_) * result.frames);
  auto windowed = [&](int64_t t, int i) {  // sample i of frame t, windowed
    const int64_t start = t * kHop;        // in padded coordinates
    const bool interior = start >= pad && start + kNFft - pad <= len;
    return (interior ? x[start - pad + i] : reflected(start + i)) * window_[i];
  };
  // Two real frames per complex FFT: z = x_t + i x_{t+1} gives X_t[k] = (Z[k] + conj Z[N-k]) / 2
  // and X_{t+1}[k] = (Z[k] - conj Z[N-k]) / 2i, halving the transforms.
  std::vector<std::complex<double>> frame(kNFft), spectrum(kNFft);
  std::vector<double> power_a(bins), power_b(bins);
  double global_max = -1e300;
  auto project = [&](int64_t t, const std::vector<double>& power) {
    for (int m = 0; m < n_mels_; ++m) {
      const float* row = &filters_[static_cast<size_t>(m) * bins];
      double acc = 0;
      for (int k = band_begin_[m]; k < band_end_[m]; ++k) acc += row[k] * power[k];
      const double lg = std::log10(std::max(acc, 1e-10));
      global_max = std::max(global_max, lg);
      result.values[static_cast<size_t>(m) * result.frames + t] = static_cast<float>(lg);
    }
  };
  for (int64_t t = 0; t < result.frames; t += 2) {
    const bool pair = t + 1 < result.frames;
    for (int i = 0; i < kNFft; ++i) frame[i] = {windowed(t, i), pair ? windowed(t + 1, i) : 0.0};
    fft_.forward(frame.data(), spectrum.data());
    for (int k = 0; k < bins; ++k) {
      const std::complex<double> zk = spectrum[k], zc = std::conj(spectrum[(kNFft - k) % kNFft]);
      power_a[k] = 0.25 * std::norm(zk + zc);
      power_b[k] = 0.25 * std::norm(zk - zc);
    }
    project(t, power_a);
    if (pair) project(t + 1, power_b);
  }
  const double floor = global_max - 8.0;
  for (float& v : result.values) v = static_cast<float>((std::max<double>(v, floor) + 4.0) / 4.0);
  result.floor = static_cast<float>((floor + 4.0) / 4.0);
  return result;
}

}  // namespace chorus::audio
