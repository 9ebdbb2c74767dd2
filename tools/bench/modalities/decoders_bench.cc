// Decoder throughput on one core (the loader runs one decode per worker thread):
//   image: Fashion-MNIST-like 28x28 grey PNG -> [3, 28, 28] (and -> 32x32 bilinear), and a
//          512x512 JPEG -> 224x224 (bicubic resize + centre crop, and with augmentation);
//   audio: 16 kHz WAV -> log-mel (seconds of audio per second), 22.05 kHz WAV (resampling
//          path) and MP3 (FFmpeg path).
// Run: build/cpu/bin/chorus_bench_decoders [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <cmath>
#include <fstream>
#include <numbers>
#include <string>
#include <vector>

#include "modalities/audio/decoder.h"
#include "modalities/image/decoder.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb/stb_image_write.h>

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A 512x512 photo-like JPEG (smooth shading, edges and noise), quality 90.
std::string make_jpeg() {
  const int n = 512;
  std::vector<uint8_t> rgb(n * n * 3);
  uint32_t noise = 12345;
  for (int y = 0; y < n; ++y) {
    for (int x = 0; x < n; ++x) {
      noise = noise * 1664525u + 1013904223u;
      const int jitter = static_cast<int>(noise >> 28) - 8;
      const bool disc = (x - 300) * (x - 300) + (y - 200) * (y - 200) < 90 * 90;
      const int base[3] = {disc ? 200 : x / 2, disc ? 60 : y / 2,
                           static_cast<int>(128 + 100 * std::sin(x * 0.05 + y * 0.03))};
      for (int c = 0; c < 3; ++c) {
        rgb[(y * n + x) * 3 + c] = static_cast<uint8_t>(std::clamp(base[c] + jitter, 0, 255));
      }
    }
  }
  std::string out;
  stbi_write_jpg_to_func(
      [](void* ctx, void* data, int size) {
        static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), size);
      },
      &out, n, n, 3, rgb.data(), 90);
  return out;
}

// Mono 16-bit PCM WAV of `seconds` of a chirp plus tones at `rate`.
std::string make_wav(int rate, double seconds) {
  const int n = static_cast<int>(rate * seconds);
  std::string data(static_cast<size_t>(n) * 2, '\0');
  for (int i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / rate;
    const double v = 0.3 * std::sin(2 * std::numbers::pi * (100 * t + 300 * t * t)) +
                     0.2 * std::sin(2 * std::numbers::pi * 440 * t);
    const int16_t s = static_cast<int16_t>(std::lround(v * 32767));
    data[2 * i] = static_cast<char>(s & 0xFF);
    data[2 * i + 1] = static_cast<char>((s >> 8) & 0xFF);
  }
  auto u32 = [](uint32_t v) {
    return std::string{char(v), char(v >> 8), char(v >> 16), char(v >> 24)};
  };
  auto u16 = [](uint16_t v) { return std::string{char(v), char(v >> 8)}; };
  std::string fmt = u16(1) + u16(1) + u32(rate) + u32(rate * 2) + u16(2) + u16(16);
  std::string body =
      "WAVEfmt " + u32(16) + fmt + "data" + u32(static_cast<uint32_t>(data.size())) + data;
  return "RIFF" + u32(static_cast<uint32_t>(body.size())) + body;
}

void run_image(benchmark::State& state, const std::string& bytes, const nlohmann::json& options,
               bool augment) {
  auto decoder = chorus::image::make_image_decoder(options);
  if (!decoder.ok()) {
    state.SkipWithError(std::string(decoder.status().message()).c_str());
    return;
  }
  uint64_t seed = 0;
  for (auto _ : state) {
    auto s = (*decoder)->decode_bytes(bytes, {augment, seed++});
    if (!s.ok()) state.SkipWithError(std::string(s.status().message()).c_str());
    benchmark::DoNotOptimize(s);
  }
  state.counters["images/s"] = benchmark::Counter(state.iterations(), benchmark::Counter::kIsRate);
}

void BM_Image_FashionPng28(benchmark::State& state) {
  static const std::string png = slurp(std::string(CHORUS_FIXTURE_DIR) + "/image/grey28.png");
  run_image(state, png, {{"size", 28}}, false);
}
void BM_Image_FashionPng28To32Bilinear(benchmark::State& state) {
  static const std::string png = slurp(std::string(CHORUS_FIXTURE_DIR) + "/image/grey28.png");
  run_image(state, png, {{"size", 32}, {"resize", "bilinear"}}, false);
}
void BM_Image_Jpeg512To224Bicubic(benchmark::State& state) {
  static const std::string jpg = make_jpeg();
  run_image(state, jpg, {{"size", 224}}, false);
}
void BM_Image_Jpeg512To224Augmented(benchmark::State& state) {
  static const std::string jpg = make_jpeg();
  run_image(state, jpg, {{"size", 224}}, true);
}

void run_audio(benchmark::State& state, const std::string& bytes, double seconds) {
  auto decoder = chorus::audio::make_audio_decoder(nlohmann::json::object());
  for (auto _ : state) {
    auto s = (*decoder)->decode_bytes(bytes, {});
    if (!s.ok()) state.SkipWithError(std::string(s.status().message()).c_str());
    benchmark::DoNotOptimize(s);
  }
  state.counters["audio_s/s"] =
      benchmark::Counter(seconds * state.iterations(), benchmark::Counter::kIsRate);
}

void BM_Audio_Wav16kMel(benchmark::State& state) {
  static const std::string wav = make_wav(16000, 10.0);
  run_audio(state, wav, 10.0);
}
void BM_Audio_Wav22kResampleMel(benchmark::State& state) {
  static const std::string wav = make_wav(22050, 10.0);
  run_audio(state, wav, 10.0);
}
void BM_Audio_Mp3Mel(benchmark::State& state) {
  static const std::string mp3 = slurp(std::string(CHORUS_FIXTURE_DIR) + "/audio/clip22k.mp3");
  run_audio(state, mp3, 1.0);
}

BENCHMARK(BM_Image_FashionPng28);
BENCHMARK(BM_Image_FashionPng28To32Bilinear);
BENCHMARK(BM_Image_Jpeg512To224Bicubic)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Image_Jpeg512To224Augmented)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Audio_Wav16kMel)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Audio_Wav22kResampleMel)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Audio_Mp3Mel)->Unit(benchmark::kMillisecond);

}  // namespace
