#include "tools/chorus/data_speech.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace chorus::cli {
namespace {

uint32_t le32(const std::string& b, size_t at) {
  return uint32_t{static_cast<uint8_t>(b[at])} | uint32_t{static_cast<uint8_t>(b[at + 1])} << 8 |
         uint32_t{static_cast<uint8_t>(b[at + 2])} << 16 |
         uint32_t{static_cast<uint8_t>(b[at + 3])} << 24;
}
uint16_t le16(const std::string& b, size_t at) {
  return static_cast<uint16_t>(uint16_t{static_cast<uint8_t>(b[at])} |
                               uint16_t{static_cast<uint8_t>(b[at + 1])} << 8);
}
void put32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}

// Modified Bessel function I0 (series), for the Kaiser window.
double bessel_i0(double x) {
  double sum = 1, term = 1;
  for (int k = 1; k < 50; ++k) {
    term *= (x / (2 * k)) * (x / (2 * k));
    sum += term;
    if (term < 1e-12 * sum) break;
  }
  return sum;
}

}  // namespace

std::string Voice::id() const { return absl::StrCat(name, "_s", speed, "_p", pitch); }

absl::StatusOr<Pcm> parse_wav(const std::string& b) {
  if (b.size() < 12 || b.compare(0, 4, "RIFF") != 0 || b.compare(8, 4, "WAVE") != 0) {
    return absl::DataLossError("not a RIFF/WAVE stream");
  }
  Pcm pcm;
  bool have_fmt = false;
  size_t at = 12;
  while (at + 8 <= b.size()) {
    const std::string id = b.substr(at, 4);
    const uint64_t size = le32(b, at + 4);
    const size_t body = at + 8;
    if (id == "fmt ") {
      if (size < 16 || body + 16 > b.size()) return absl::DataLossError("short fmt chunk");
      const uint16_t format = le16(b, body), channels = le16(b, body + 2);
      const uint16_t bits = le16(b, body + 14);
      if (format != 1 || channels != 1 || bits != 16) {
        return absl::DataLossError(absl::StrCat("expected 16-bit mono PCM, got format ", format,
                                                ", ", channels, " channels, ", bits, " bits"));
      }
      pcm.rate = static_cast<int>(le32(b, body + 4));
      have_fmt = true;
    } else if (id == "data") {
      if (!have_fmt) return absl::DataLossError("data chunk before fmt chunk");
      const size_t n = std::min<uint64_t>(size, b.size() - body) / 2;
      pcm.samples.resize(n);
      for (size_t i = 0; i < n; ++i) pcm.samples[i] = static_cast<int16_t>(le16(b, body + 2 * i));
      return pcm;
    }
    at = body + size + (size & 1);
  }
  return absl::DataLossError("no data chunk");
}

std::string wav_bytes(const Pcm& pcm) {
  const uint32_t data = static_cast<uint32_t>(pcm.samples.size() * 2);
  std::string out = "RIFF";
  put32(out, 36 + data);
  out += "WAVEfmt ";
  put32(out, 16);
  put16(out, 1);  // PCM
  put16(out, 1);  // mono
  put32(out, static_cast<uint32_t>(pcm.rate));
  put32(out, static_cast<uint32_t>(pcm.rate) * 2);
  put16(out, 2);
  put16(out, 16);
  out += "data";
  put32(out, data);
  for (int16_t s : pcm.samples) put16(out, static_cast<uint16_t>(s));
  return out;
}

Pcm resample(const Pcm& in, int rate) {
  if (in.rate == rate || in.samples.empty()) return {rate, in.samples};
  // Polyphase: with in/out = M/L in lowest terms, output n sits at input time n·M/L, whose
  // fractional part takes only L values, so each phase's taps are computed once.
  const int64_t g = std::gcd(in.rate, rate);
  const int64_t L = rate / g, M = in.rate / g;
  constexpr int kZeroCrossings = 16;  // per side
  constexpr double kBeta = 8.0;
  // Cut-off (cycles per input sample): 0.45 of the lower rate.
  const double cutoff = 0.45 * std::min(in.rate, rate) / in.rate;
  const double support = kZeroCrossings / (2 * cutoff);  // input samples per side
  const int64_t S = static_cast<int64_t>(std::ceil(support));
  const double i0_beta = bessel_i0(kBeta);
  std::vector<double> taps(static_cast<size_t>(L * 2 * S));
  for (int64_t p = 0; p < L; ++p) {
    const double frac = static_cast<double>(p) / L;
    for (int64_t j = -S + 1; j <= S; ++j) {
      const double x = frac - j;  // distance from output time to input sample base + j
      const double r = x / support;
      double h = 0;
      if (r > -1 && r < 1) {
        const double arg = 2 * M_PI * cutoff * x;
        const double sinc = std::abs(x) < 1e-12 ? 1.0 : std::sin(arg) / arg;
        h = 2 * cutoff * sinc * bessel_i0(kBeta * std::sqrt(1 - r * r)) / i0_beta;
      }
      taps[p * 2 * S + (j + S - 1)] = h;
    }
  }
  const int64_t n_in = static_cast<int64_t>(in.samples.size());
  const int64_t n_out = n_in * L / M;
  Pcm out{rate, std::vector<int16_t>(static_cast<size_t>(n_out))};
  for (int64_t n = 0; n < n_out; ++n) {
    const int64_t base = n * M / L, phase = n * M % L;
    const double* h = &taps[phase * 2 * S];
    double acc = 0;
    for (int64_t j = -S + 1; j <= S; ++j) {
      const int64_t k = base + j;
      if (k >= 0 && k < n_in) acc += in.samples[k] * h[j + S - 1];
    }
    out.samples[n] = static_cast<int16_t>(std::clamp<long>(std::lround(acc), -32768L, 32767L));
  }
  return out;
}

Pcm trim_silence(const Pcm& in, int pad_ms) {
  int peak = 0;
  for (int16_t s : in.samples) peak = std::max(peak, std::abs(int{s}));
  const int threshold = std::max(1, peak / 50);
  size_t first = in.samples.size(), last = 0;
  for (size_t i = 0; i < in.samples.size(); ++i) {
    if (std::abs(int{in.samples[i]}) >= threshold) {
      first = std::min(first, i);
      last = i;
    }
  }
  if (first > last) return in;
  const size_t pad = static_cast<size_t>(in.rate) * pad_ms / 1000;
  first = first > pad ? first - pad : 0;
  last = std::min(in.samples.size() - 1, last + pad);
  return {in.rate, std::vector<int16_t>(in.samples.begin() + first, in.samples.begin() + last + 1)};
}

absl::StatusOr<Pcm> synthesise(const std::string& text, const Voice& voice) {
  int pipe_fd[2];
  if (::pipe(pipe_fd) != 0) return absl::InternalError("pipe() failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fd[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fd[0]);
  posix_spawn_file_actions_addclose(&actions, pipe_fd[1]);
  const std::string speed = std::to_string(voice.speed), pitch = std::to_string(voice.pitch);
  std::vector<std::string> argv_s = {"espeak-ng", "-v",  voice.name, "-s", speed,
                                     "-p",        pitch, "--stdout", "--", text};
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  const int rc = posix_spawnp(&pid, "espeak-ng", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fd[1]);
  if (rc != 0) {
    ::close(pipe_fd[0]);
    return absl::NotFoundError(absl::StrCat("cannot run espeak-ng (", std::strerror(rc),
                                            "); install the Debian package espeak-ng"));
  }
  std::string bytes;
  char buf[1 << 15];
  for (ssize_t n; (n = ::read(pipe_fd[0], buf, sizeof(buf))) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    bytes.append(buf, static_cast<size_t>(n));
  }
  ::close(pipe_fd[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const std::string what = absl::StrCat("espeak-ng -v ", voice.name, " \"", text, "\"");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat(what, " failed (status ", status, ")"));
  }
  auto pcm = parse_wav(bytes);
  if (!pcm.ok()) return absl::DataLossError(absl::StrCat(what, ": ", pcm.status().message()));
  if (pcm->samples.empty()) return absl::DataLossError(absl::StrCat(what, ": no audio"));
  return trim_silence(resample(*pcm, kSpeechRate));
}

}  // namespace chorus::cli
