// Spoken captions for `chorus data prepare-fmnist`: espeak-ng synthesis, 22050 -> 16000 Hz
// resampling, silence trimming and 16-bit WAV output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace chorus::cli {

inline constexpr int kSpeechRate = 16000;

// One espeak-ng voice variant: voice (+ variant), words per minute, pitch 0..99.
struct Voice {
  std::string name;  // "en-us+m3"
  int speed = 160;
  int pitch = 50;
  std::string id() const;  // "en-us+m3_s160_p50", used in file names and manifests
};

// Mono 16-bit PCM.
struct Pcm {
  int rate = 0;
  std::vector<int16_t> samples;
};

// Parses a RIFF/WAVE PCM 16-bit mono stream. espeak-ng --stdout streams, so a data chunk whose
// size runs past the end (0xFFFFFFFF placeholders) is read to the end.
absl::StatusOr<Pcm> parse_wav(const std::string& bytes);
std::string wav_bytes(const Pcm& pcm);

// Band-limited resampling (Kaiser-windowed sinc, cut-off just below the lower Nyquist rate).
Pcm resample(const Pcm& in, int rate);

// Drops leading/trailing near-silence, keeping `pad_ms` of it on each side.
Pcm trim_silence(const Pcm& in, int pad_ms = 60);

// Runs espeak-ng and returns the utterance at kSpeechRate, trimmed. The text is passed as an
// argument vector entry (no shell), so any caption is safe.
absl::StatusOr<Pcm> synthesise(const std::string& text, const Voice& voice);

}  // namespace chorus::cli
