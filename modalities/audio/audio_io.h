// Audio file bytes -> mono float samples at the file's own rate.
//
// WAV (RIFF/RF64), FLAC, Ogg (Vorbis/Opus) and AIFF go through libsndfile; everything else
// (MP3, M4A/AAC, the audio track of video containers, ...) through FFmpeg's libavformat and
// libavcodec. Channels are mixed down by averaging. Tensor-free: the libFuzzer target links it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace chorus::audio {

struct DecodedAudio {
  std::vector<float> samples;  // mono, the file's sample rate
  int sample_rate = 0;
  int channels = 0;  // in the file
  std::string
      format;  // "wav", "flac", "ogg", "aiff" or FFmpeg's demuxer name ("mp3", "mov,mp4,...")
};

struct AudioLimits {
  double max_seconds = 3600;  // longest accepted input, checked from the header when it says
};

// "wav", "flac", "ogg", "aiff" for the containers libsndfile reads, "" for anything else.
std::string sniff_sndfile_container(std::string_view bytes);

// Decodes and checks the samples: every sample must be finite (a NaN or Inf names its time).
// Errors are InvalidArgument with a message naming the problem (the caller adds the file name).
absl::StatusOr<DecodedAudio> decode_audio(std::string_view bytes, const AudioLimits& limits);

// The two back ends (used by decode_audio; exposed for tests).
absl::StatusOr<DecodedAudio> decode_with_sndfile(std::string_view bytes, const std::string& format,
                                                 const AudioLimits& limits);
absl::StatusOr<DecodedAudio> decode_with_ffmpeg(std::string_view bytes, const AudioLimits& limits);

}  // namespace chorus::audio
