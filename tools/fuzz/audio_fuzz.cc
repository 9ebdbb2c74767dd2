// libFuzzer target: arbitrary bytes through the audio decoder (libsndfile or FFmpeg, chosen by
// the magic bytes, as in the plugin), then resampling to 16 kHz and the log-mel front-end.
// Any input must give an error status or finite features; crashes, leaks and UB are findings.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "modalities/audio/audio_io.h"
#include "modalities/audio/log_mel.h"
#include "modalities/audio/resample.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chorus::audio;
  AudioLimits limits;
  limits.max_seconds = 20;  // keeps each run short; the limit logic is exercised all the same
  auto audio = decode_audio(std::string_view(reinterpret_cast<const char*>(data), size), limits);
  if (!audio.ok()) return 0;
  if (audio->sample_rate < 1000 || audio->samples.empty()) std::abort();
  // The front-end on at most 2 s: enough to cover it without slowing the fuzzer down.
  const int64_t n =
      std::min<int64_t>(static_cast<int64_t>(audio->samples.size()), 2LL * audio->sample_rate);
  const std::vector<float> pcm =
      Resampler(audio->sample_rate, kSampleRate).process(audio->samples.data(), n);
  if (static_cast<int64_t>(pcm.size()) < kHop) return 0;
  static const LogMel mel(80);
  const LogMelResult r = mel.compute(pcm.data(), static_cast<int64_t>(pcm.size()));
  for (float v : r.values) {
    if (!std::isfinite(v)) std::abort();
  }
  return 0;
}
