// FFmpeg back end of decode_audio: MP3, AAC/M4A and the audio track of any container FFmpeg
// demuxes, read from memory through a custom AVIOContext (seekable, so MP4 files with the index
// at the end work). Sample-format conversion and the mono mixdown are done here (averaging the
// channels, as the libsndfile path does); resampling is left to Resampler so both paths
// resample identically.
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/log.h>
}

#include <algorithm>
#include <cstring>
#include <mutex>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "modalities/audio/audio_io.h"

namespace chorus::audio {
namespace {

struct Memory {
  std::string_view bytes;
  int64_t pos = 0;
};

int read_packet(void* user, uint8_t* dst, int size) {
  auto* m = static_cast<Memory*>(user);
  const int64_t left = static_cast<int64_t>(m->bytes.size()) - m->pos;
  if (left <= 0) return AVERROR_EOF;
  const int n = static_cast<int>(std::min<int64_t>(left, size));
  std::memcpy(dst, m->bytes.data() + m->pos, n);
  m->pos += n;
  return n;
}

int64_t seek(void* user, int64_t offset, int whence) {
  auto* m = static_cast<Memory*>(user);
  const int64_t size = static_cast<int64_t>(m->bytes.size());
  if (whence & AVSEEK_SIZE) return size;
  whence &= ~AVSEEK_FORCE;
  int64_t pos = whence == SEEK_SET ? offset : whence == SEEK_CUR ? m->pos + offset : size + offset;
  if (pos < 0 || pos > size) return AVERROR(EINVAL);
  m->pos = pos;
  return pos;
}

std::string av_error(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, buf, sizeof(buf));
  return buf;
}

// Sample (frame f, channel c) of a decoded frame as float in [-1, 1].
float sample_at(const AVFrame* frame, AVSampleFormat fmt, int channels, int f, int c) {
  const bool planar = av_sample_fmt_is_planar(fmt);
  const uint8_t* base = planar ? frame->extended_data[c] : frame->extended_data[0];
  const int64_t i = planar ? f : static_cast<int64_t>(f) * channels + c;
  switch (av_get_packed_sample_fmt(fmt)) {
    case AV_SAMPLE_FMT_U8:
      return (reinterpret_cast<const uint8_t*>(base)[i] - 128) * (1.0f / 128);
    case AV_SAMPLE_FMT_S16:
      return reinterpret_cast<const int16_t*>(base)[i] * (1.0f / 32768);
    case AV_SAMPLE_FMT_S32:
      return static_cast<float>(reinterpret_cast<const int32_t*>(base)[i] * (1.0 / 2147483648.0));
    case AV_SAMPLE_FMT_S64:
      return static_cast<float>(static_cast<double>(reinterpret_cast<const int64_t*>(base)[i]) *
                                (1.0 / 9223372036854775808.0));
    case AV_SAMPLE_FMT_FLT:
      return reinterpret_cast<const float*>(base)[i];
    case AV_SAMPLE_FMT_DBL:
      return static_cast<float>(reinterpret_cast<const double*>(base)[i]);
    default:
      return 0.0f;  // rejected before decoding (see supported_format)
  }
}

bool supported_format(AVSampleFormat fmt) {
  switch (av_get_packed_sample_fmt(fmt)) {
    case AV_SAMPLE_FMT_U8:
    case AV_SAMPLE_FMT_S16:
    case AV_SAMPLE_FMT_S32:
    case AV_SAMPLE_FMT_S64:
    case AV_SAMPLE_FMT_FLT:
    case AV_SAMPLE_FMT_DBL:
      return true;
    default:
      return false;
  }
}

struct Cleanup {
  AVFormatContext* format = nullptr;
  AVIOContext* io = nullptr;
  AVCodecContext* codec = nullptr;
  AVPacket* packet = nullptr;
  AVFrame* frame = nullptr;
  ~Cleanup() {
    av_frame_free(&frame);
    av_packet_free(&packet);
    avcodec_free_context(&codec);
    avformat_close_input(&format);  // does not free a custom pb
    if (io != nullptr) av_freep(&io->buffer);
    avio_context_free(&io);
  }
};

}  // namespace

absl::StatusOr<DecodedAudio> decode_with_ffmpeg(std::string_view bytes, const AudioLimits& limits) {
  // FFmpeg logs decoder complaints to stderr from every loader thread; errors are reported
  // through our statuses instead.
  static std::once_flag quiet;
  std::call_once(quiet, [] { av_log_set_level(AV_LOG_QUIET); });

  Memory mem{bytes, 0};
  Cleanup c;
  constexpr int kIoBuffer = 1 << 15;
  auto* buffer = static_cast<unsigned char*>(av_malloc(kIoBuffer));
  if (buffer == nullptr) return absl::ResourceExhaustedError("FFmpeg: out of memory");
  c.io = avio_alloc_context(buffer, kIoBuffer, 0, &mem, read_packet, nullptr, seek);
  if (c.io == nullptr) {
    av_free(buffer);
    return absl::ResourceExhaustedError("FFmpeg: out of memory");
  }
  c.format = avformat_alloc_context();
  if (c.format == nullptr) return absl::ResourceExhaustedError("FFmpeg: out of memory");
  c.format->pb = c.io;
  c.format->flags |= AVFMT_FLAG_CUSTOM_IO;
  if (int err = avformat_open_input(&c.format, nullptr, nullptr, nullptr); err < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unrecognised audio format (FFmpeg: ", av_error(err),
        "); supported: WAV, FLAC, Ogg, AIFF, MP3, M4A/AAC and audio tracks FFmpeg can read"));
  }
  const std::string name = c.format->iformat->name;
  if (int err = avformat_find_stream_info(c.format, nullptr); err < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("corrupt ", name, " (FFmpeg, stream info: ", av_error(err), ")"));
  }
  const AVCodec* codec = nullptr;
  const int stream = av_find_best_stream(c.format, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
  if (stream < 0 || codec == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(name, " input has no decodable audio stream"));
  }
  const AVStream* st = c.format->streams[stream];
  if (st->duration != AV_NOPTS_VALUE && st->time_base.den != 0) {
    const double seconds = st->duration * av_q2d(st->time_base);
    if (seconds > limits.max_seconds) {
      return absl::InvalidArgumentError(absl::StrCat(name, " stream declares ", seconds,
                                                     " s, over the limit of ", limits.max_seconds,
                                                     " s (option max_seconds)"));
    }
  }
  c.codec = avcodec_alloc_context3(codec);
  if (c.codec == nullptr) return absl::ResourceExhaustedError("FFmpeg: out of memory");
  if (int err = avcodec_parameters_to_context(c.codec, st->codecpar); err < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": bad codec parameters (FFmpeg: ", av_error(err), ")"));
  }
  c.codec->thread_count = 1;  // loader threads already run decodes in parallel
  if (int err = avcodec_open2(c.codec, codec, nullptr); err < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot open the ", codec->name, " decoder (FFmpeg: ", av_error(err), ")"));
  }
  c.packet = av_packet_alloc();
  c.frame = av_frame_alloc();
  if (c.packet == nullptr || c.frame == nullptr) {
    return absl::ResourceExhaustedError("FFmpeg: out of memory");
  }

  DecodedAudio out;
  out.format = name;
  int64_t max_samples = -1;
  auto drain = [&]() -> absl::Status {
    for (;;) {
      const int err = avcodec_receive_frame(c.codec, c.frame);
      if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return absl::OkStatus();
      if (err < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("corrupt ", codec->name, " data (FFmpeg: ", av_error(err), ")"));
      }
      const int channels = c.frame->ch_layout.nb_channels;
      const int rate = c.frame->sample_rate;
      const auto fmt = static_cast<AVSampleFormat>(c.frame->format);
      if (channels < 1 || channels > 64 || rate < 1000 || rate > 768000) {
        return absl::InvalidArgumentError(
            absl::StrCat(codec->name, " frame with ", channels, " channels at ", rate, " Hz"));
      }
      if (!supported_format(fmt)) {
        return absl::InvalidArgumentError(absl::StrCat(codec->name, " decodes to sample format ",
                                                       av_get_sample_fmt_name(fmt),
                                                       ", which is not supported"));
      }
      if (out.sample_rate == 0) {
        out.sample_rate = rate;
        out.channels = channels;
        max_samples = static_cast<int64_t>(limits.max_seconds * rate);
      } else if (rate != out.sample_rate) {
        return absl::InvalidArgumentError(absl::StrCat(codec->name,
                                                       " stream changes sample rate mid-stream (",
                                                       out.sample_rate, " -> ", rate, " Hz)"));
      }
      const float inv = 1.0f / channels;
      for (int f = 0; f < c.frame->nb_samples; ++f) {
        float acc = 0;
        for (int ch = 0; ch < channels; ++ch) acc += sample_at(c.frame, fmt, channels, f, ch);
        out.samples.push_back(acc * inv);
      }
      av_frame_unref(c.frame);
      if (static_cast<int64_t>(out.samples.size()) > max_samples) {
        return absl::InvalidArgumentError(absl::StrCat(name, " audio is longer than the limit of ",
                                                       limits.max_seconds,
                                                       " s (option max_seconds)"));
      }
    }
  };
  int decode_errors = 0;
  for (;;) {
    int err = av_read_frame(c.format, c.packet);
    if (err == AVERROR_EOF) break;
    if (err < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("corrupt ", name, " container (FFmpeg: ", av_error(err), ")"));
    }
    if (c.packet->stream_index == stream) {
      err = avcodec_send_packet(c.codec, c.packet);
      // A damaged packet is skipped (as ffmpeg does); only a stream of nothing but damage fails.
      if (err < 0 && err != AVERROR(EAGAIN)) ++decode_errors;
    }
    av_packet_unref(c.packet);
    if (absl::Status s = drain(); !s.ok()) return s;
  }
  avcodec_send_packet(c.codec, nullptr);  // flush
  if (absl::Status s = drain(); !s.ok()) return s;
  if (out.samples.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no audio could be decoded from the ", name,
                                                   " input (", decode_errors,
                                                   " damaged packets): corrupt or truncated file"));
  }
  // A stream whose header states its length (MP3's Xing/LAME frame count, MP4's sample table)
  // but decodes to much less was cut short.
  if (st->duration != AV_NOPTS_VALUE && st->duration > 0 && st->time_base.den != 0) {
    const double declared = st->duration * av_q2d(st->time_base);
    const double decoded = static_cast<double>(out.samples.size()) / out.sample_rate;
    if (decoded < 0.9 * declared - 0.05) {
      return absl::InvalidArgumentError(absl::StrCat("truncated ", name, ": the stream declares ",
                                                     declared, " s, only ", decoded,
                                                     " s could be decoded"));
    }
  }
  return out;
}

}  // namespace chorus::audio
