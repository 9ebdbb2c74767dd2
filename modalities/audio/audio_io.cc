#include "modalities/audio/audio_io.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace chorus::audio {

std::string sniff_sndfile_container(std::string_view b) {
  // Inputs shorter than a magic's end (a truncated header) simply do not match it.
  auto at = [&](size_t pos, std::string_view magic) {
    return pos <= b.size() && b.substr(pos, magic.size()) == magic;
  };
  if ((at(0, "RIFF") || at(0, "RF64")) && at(8, "WAVE")) return "wav";
  if (at(0, "fLaC")) return "flac";
  if (at(0, "OggS")) return "ogg";
  if (at(0, "FORM") && (at(8, "AIFF") || at(8, "AIFC"))) return "aiff";
  return "";
}

absl::StatusOr<DecodedAudio> decode_audio(std::string_view bytes, const AudioLimits& limits) {
  if (bytes.empty()) return absl::InvalidArgumentError("empty input (0 bytes), not audio");
  const std::string container = sniff_sndfile_container(bytes);
  auto decoded = container.empty() ? decode_with_ffmpeg(bytes, limits)
                                   : decode_with_sndfile(bytes, container, limits);
  if (!decoded.ok()) return decoded.status();
  if (decoded->samples.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(decoded->format, " stream holds no audio samples"));
  }
  // Non-finite samples would silently poison the whole spectrogram (its max) and training.
  const auto& s = decoded->samples;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!std::isfinite(s[i])) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s sample %d (%.3f s) is %s: corrupt file or float data out of range", decoded->format,
          i, static_cast<double>(i) / decoded->sample_rate, std::isnan(s[i]) ? "NaN" : "infinite"));
    }
  }
  return decoded;
}

}  // namespace chorus::audio
