// libsndfile back end of decode_audio: reads straight from memory through sndfile's virtual IO.
#include <sndfile.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "modalities/audio/audio_io.h"

namespace chorus::audio {
namespace {

struct Memory {
  std::string_view bytes;
  sf_count_t pos = 0;
};

sf_count_t mem_length(void* user) { return static_cast<Memory*>(user)->bytes.size(); }
sf_count_t mem_seek(sf_count_t offset, int whence, void* user) {
  auto* m = static_cast<Memory*>(user);
  const sf_count_t size = static_cast<sf_count_t>(m->bytes.size());
  sf_count_t pos = whence == SEEK_SET   ? offset
                   : whence == SEEK_CUR ? m->pos + offset
                                        : size + offset;
  m->pos = std::clamp<sf_count_t>(pos, 0, size);
  return m->pos;
}
sf_count_t mem_read(void* dst, sf_count_t count, void* user) {
  auto* m = static_cast<Memory*>(user);
  const sf_count_t n =
      std::clamp<sf_count_t>(static_cast<sf_count_t>(m->bytes.size()) - m->pos, 0, count);
  std::memcpy(dst, m->bytes.data() + m->pos, static_cast<size_t>(n));
  m->pos += n;
  return n;
}
sf_count_t mem_write(const void*, sf_count_t, void*) { return 0; }
sf_count_t mem_tell(void* user) { return static_cast<Memory*>(user)->pos; }

uint32_t le32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{u[0]} | (uint32_t{u[1]} << 8) | (uint32_t{u[2]} << 16) | (uint32_t{u[3]} << 24);
}

// libsndfile quietly shortens a RIFF WAV whose data chunk runs past the end of the file; a
// truncated download must be reported instead. Returns the error, or "" when the file is whole.
std::string wav_truncation(std::string_view b) {
  size_t pos = 12;
  while (pos + 8 <= b.size()) {
    const std::string_view id = b.substr(pos, 4);
    const uint32_t size = le32(b.data() + pos + 4);
    const size_t available = b.size() - pos - 8;
    if (id == "data") {
      // 0 and 0xFFFFFFFF are what streaming writers leave when the length was unknown.
      if (size != 0 && size != 0xFFFFFFFFu && size > available) {
        return absl::StrCat("truncated wav: the data chunk declares ", size, " bytes, only ",
                            available, " present");
      }
      return "";
    }
    if (size > available) return "truncated wav: a chunk runs past the end of the file";
    pos += 8 + size + (size & 1);
  }
  return "";
}

}  // namespace

absl::StatusOr<DecodedAudio> decode_with_sndfile(std::string_view bytes, const std::string& format,
                                                 const AudioLimits& limits) {
  if (format == "wav" && bytes.substr(0, 4) == "RIFF") {
    if (std::string problem = wav_truncation(bytes); !problem.empty()) {
      return absl::InvalidArgumentError(problem);
    }
  }
  Memory mem{bytes, 0};
  SF_VIRTUAL_IO io{mem_length, mem_seek, mem_read, mem_write, mem_tell};
  SF_INFO info{};
  SNDFILE* raw = sf_open_virtual(&io, SFM_READ, &info, &mem);
  if (raw == nullptr) {
    // sf_strerror(nullptr) reads a process-wide slot; another thread may overwrite it, which
    // only makes the detail less precise.
    return absl::InvalidArgumentError(absl::StrCat("corrupt, truncated or unsupported ", format,
                                                   " (libsndfile: ", sf_strerror(nullptr), ")"));
  }
  std::unique_ptr<SNDFILE, int (*)(SNDFILE*)> file(raw, sf_close);
  if (info.channels < 1 || info.channels > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat(format, " header gives ", info.channels, " channels (1 to 64 supported)"));
  }
  if (info.samplerate < 1000 || info.samplerate > 768000) {
    return absl::InvalidArgumentError(absl::StrCat(format, " header gives a sample rate of ",
                                                   info.samplerate,
                                                   " Hz (1000 to 768000 supported)"));
  }
  const double seconds = static_cast<double>(info.frames) / info.samplerate;
  if (info.frames < 0 || seconds > limits.max_seconds) {
    return absl::InvalidArgumentError(absl::StrCat(format, " header declares ", seconds,
                                                   " s, over the limit of ", limits.max_seconds,
                                                   " s (option max_seconds)"));
  }
  DecodedAudio out;
  out.sample_rate = info.samplerate;
  out.channels = info.channels;
  out.format = format;
  out.samples.reserve(static_cast<size_t>(info.frames));
  // Float reads are scaled to [-1, 1] for integer formats (SFC_SET_NORM_FLOAT is on by default).
  constexpr sf_count_t kChunk = 4096;
  std::vector<float> buf(static_cast<size_t>(kChunk) * info.channels);
  const float inv = 1.0f / info.channels;
  sf_count_t total = 0;
  for (;;) {
    const sf_count_t got = sf_readf_float(file.get(), buf.data(), kChunk);
    if (got <= 0) break;
    for (sf_count_t f = 0; f < got; ++f) {
      float acc = 0;
      for (int c = 0; c < info.channels; ++c) acc += buf[f * info.channels + c];
      out.samples.push_back(acc * inv);
    }
    total += got;
    if (total > info.frames) break;  // more data than declared: stop at the declared length
  }
  if (sf_error(file.get()) != SF_ERR_NO_ERROR) {
    return absl::InvalidArgumentError(
        absl::StrCat("corrupt ", format, " data (libsndfile: ", sf_strerror(file.get()), ")"));
  }
  if (total < info.frames) {
    return absl::InvalidArgumentError(absl::StrCat("truncated ", format, ": header declares ",
                                                   info.frames, " frames, only ", total,
                                                   " could be read"));
  }
  out.samples.resize(static_cast<size_t>(info.frames));
  return out;
}

}  // namespace chorus::audio
