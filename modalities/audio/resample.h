// Band-limited sample-rate conversion by windowed-sinc interpolation (polyphase).
//
// The low-pass is a sinc at 0.97 of the lower Nyquist frequency, 16 zero crossings each side,
// Kaiser window beta = 9: the defaults of FFmpeg's swresample, which Whisper's loader uses, so
// both decoding paths (libsndfile and FFmpeg) resample identically. Each phase's taps are
// normalised to sum to 1, so DC passes unchanged.
#pragma once

#include <cstdint>
#include <vector>

namespace chorus::audio {

class Resampler {
 public:
  Resampler(int in_rate, int out_rate);
  int in_rate() const { return in_rate_; }
  int out_rate() const { return out_rate_; }
  // ceil(n * out_rate / in_rate) samples; input outside [0, n) counts as silence.
  std::vector<float> process(const float* in, int64_t n) const;

 private:
  int in_rate_, out_rate_;
  int64_t up_, down_;         // out/in reduced: output j sits at input position j * down_ / up_
  int phases_;                // min(up_, kMaxPhases): fractional positions with their own taps
  int half_taps_;             // taps each side of the position
  std::vector<float> table_;  // [phases_, 2 * half_taps_]
};

}  // namespace chorus::audio
