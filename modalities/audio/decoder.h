// The audio modality's decoder: file or bytes -> mono 16 kHz -> Whisper log-mel.
//   Sample: "mel" f32 [n_mels, frames], "mask" u8 [frames] (1 = frame of real audio);
//   Batch:  "mel" f32 [B, n_mels, T], "mask" u8 [B, T], T = the longest sample (padded frames
//           hold that sample's floor value, i.e. what silence looks like, and mask 0).
// Sample metadata: "duration" (s, of the file), "sample_rate" and "channels" of the file,
// "format", "offset" (s, where the kept window starts), "mel_floor".
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "chorus/plugin.h"
#include "modalities/audio/audio_io.h"
#include "modalities/audio/log_mel.h"
#include "modalities/audio/resample.h"

namespace chorus::audio {

struct AudioConfig {
  int n_mels = 80;
  double seconds = 0;       // > 0: crop or zero-pad every clip to this length; 0: keep its length
  bool random_crop = true;  // with DecodeOptions::augment: seeded random window, else the start
  AudioLimits limits;
};

class AudioDecoder : public plugin::Decoder {
 public:
  explicit AudioDecoder(AudioConfig config) : config_(config), mel_(config.n_mels) {}

  absl::StatusOr<data::Sample> decode_file(const std::string& path,
                                           const data::DecodeOptions& options) const override;
  absl::StatusOr<data::Sample> decode_bytes(std::string_view bytes,
                                            const data::DecodeOptions& options) const override;
  absl::StatusOr<data::Batch> collate(const std::vector<data::Sample>& samples) const override;

  const AudioConfig& config() const { return config_; }

 private:
  absl::StatusOr<data::Sample> decode_named(std::string_view bytes, const std::string& name,
                                            const data::DecodeOptions& options) const;
  // One resampler per input rate, built on first use (its filter table costs ~1 ms).
  std::shared_ptr<const Resampler> resampler_for(int rate) const;

  AudioConfig config_;
  LogMel mel_;
  mutable std::mutex mu_;
  mutable std::map<int, std::shared_ptr<const Resampler>> resamplers_;
};

// Options (defaults in parentheses): n_mels (80; Whisper uses 80, or 128 for large-v3),
// seconds (0 = variable length), random_crop (true), max_seconds (600).
plugin::OptionSchema audio_decoder_options();

// Missing options take the schema's defaults; bad values give InvalidArgument naming the option.
absl::StatusOr<std::unique_ptr<plugin::Decoder>> make_audio_decoder(const plugin::Options& options);

}  // namespace chorus::audio
