// Whisper's log-mel front-end (openai/whisper audio.py: log_mel_spectrogram), in C++:
//   STFT: periodic Hann window of n_fft = 400 samples (25 ms at 16 kHz), hop 160 (10 ms),
//         centred frames with reflect padding of n_fft / 2, the last frame dropped, so a clip of
//         n samples gives n / 160 frames;
//   power spectrum |X|^2 -> mel filterbank (librosa.filters.mel: Slaney mel scale, Slaney area
//         normalisation, 0 Hz .. 8 kHz) -> log10(max(x, 1e-10)) -> max(x, global max - 8)
//         -> (x + 4) / 4.
#pragma once

#include <cstdint>
#include <vector>

#include "modalities/audio/fft.h"

namespace chorus::audio {

inline constexpr int kSampleRate = 16000;
inline constexpr int kNFft = 400;
inline constexpr int kHop = 160;

// librosa.filters.mel(sr, n_fft, n_mels) with its defaults (fmin 0, fmax sr/2, htk=False,
// norm="slaney"), computed in double and rounded to float like Whisper's mel_filters.npz.
// Row-major [n_mels, n_fft / 2 + 1].
std::vector<float> mel_filterbank(int sample_rate, int n_fft, int n_mels);

struct LogMelResult {
  std::vector<float> values;  // [n_mels, frames] row-major
  int64_t frames = 0;
  float floor = 0;  // the value floored entries got: ((global max - 8) + 4) / 4
};

class LogMel {
 public:
  explicit LogMel(int n_mels);
  int n_mels() const { return n_mels_; }
  const std::vector<float>& filterbank() const { return filters_; }
  // `n` samples at 16 kHz; n >= kHop (at least one frame). Clips of at most n_fft / 2 samples
  // are zero-extended to n_fft / 2 + 1 first so that reflect padding is defined.
  LogMelResult compute(const float* samples, int64_t n) const;

 private:
  int n_mels_;
  Fft fft_;
  std::vector<double> window_;
  std::vector<float> filters_;
  // Nonzero span [begin, end) of each filter row, to skip the zeros in the product.
  std::vector<int> band_begin_, band_end_;
};

}  // namespace chorus::audio
