// The numeric core of the audio front-end: FFT against a direct DFT, the mel filterbank's
// published properties, and the log-mel against the numpy reference
// (tools/fixtures/make_mel_golden.py).
#include "modalities/audio/log_mel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <numbers>

#include "modalities/audio/audio_io.h"
#include "modalities/audio/fft.h"

namespace chorus::audio {
namespace {

const std::string kDir = std::string(CHORUS_FIXTURE_DIR) + "/audio/";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::vector<float> read_f32(const std::string& path) {
  const std::string bytes = slurp(path);
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

TEST(Fft, MatchesDirectDft) {
  for (int n : {1, 2, 3, 4, 5, 8, 12, 25, 49, 97, 400}) {
    std::vector<std::complex<double>> in(n), out(n);
    for (int i = 0; i < n; ++i) in[i] = {std::sin(0.7 * i + 0.1), std::cos(1.3 * i * i)};
    Fft(n).forward(in.data(), out.data());
    double max_err = 0;
    for (int k = 0; k < n; ++k) {
      std::complex<double> ref = 0;
      for (int t = 0; t < n; ++t) {
        ref += in[t] * std::polar(1.0, -2.0 * std::numbers::pi * k * t / n);
      }
      max_err = std::max(max_err, std::abs(out[k] - ref));
    }
    EXPECT_LT(max_err, 1e-9 * n) << "n = " << n;
  }
}

TEST(MelFilterbank, SlaneyTrianglesOverZeroToNyquist) {
  const auto f = mel_filterbank(16000, 400, 80);
  ASSERT_EQ(f.size(), 80u * 201u);
  // Slaney normalisation: filter m has peak 2 / (hi - lo) Hz and area ~1 in Hz
  // (the triangle's width is hi - lo): sum of weights * bin width (40 Hz) ~ 1 for filters many
  // bins wide (the upper ones; narrow ones are sampled too coarsely for the sum to approximate).
  for (int m = 50; m < 80; ++m) {
    double area = 0;
    for (int k = 0; k < 201; ++k) area += f[m * 201 + k] * 40.0;
    EXPECT_NEAR(area, 1.0, 0.03) << "filter " << m;
  }
  // Every filter is non-negative and the first one starts at 0 Hz.
  for (float w : f) ASSERT_GE(w, 0.0f);
  EXPECT_EQ(f[0], 0.0f);
  EXPECT_GT(f[1], 0.0f);
}

void expect_matches(const std::vector<float>& got, const std::vector<float>& want, double tol,
                    const std::string& label) {
  ASSERT_EQ(got.size(), want.size()) << label;
  double max_err = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    max_err = std::max(max_err, static_cast<double>(std::abs(got[i] - want[i])));
  }
  EXPECT_LT(max_err, tol) << label;
  ::testing::Test::RecordProperty(label + "_max_abs_err", std::to_string(max_err));
  std::printf("%s: max |C++ - numpy| = %.3g\n", label.c_str(), max_err);
}

TEST(LogMel, MatchesNumpyWhisperReference) {
  auto audio = decode_audio(slurp(kDir + "signal16k.wav"), {});
  ASSERT_TRUE(audio.ok()) << audio.status();
  ASSERT_EQ(audio->sample_rate, 16000);
  ASSERT_EQ(audio->samples.size(), 16000u);
  for (int n_mels : {80, 128}) {
    const LogMelResult mel = LogMel(n_mels).compute(audio->samples.data(), 16000);
    EXPECT_EQ(mel.frames, 100);
    expect_matches(mel.values, read_f32(kDir + "mel" + std::to_string(n_mels) + ".f32"), 1e-4,
                   "mel" + std::to_string(n_mels));
  }
  // Zero-padded to 1.5 s, as fixed-length mode does.
  std::vector<float> padded = audio->samples;
  padded.resize(24000, 0.0f);
  const LogMelResult mel = LogMel(80).compute(padded.data(), 24000);
  EXPECT_EQ(mel.frames, 150);
  expect_matches(mel.values, read_f32(kDir + "mel80_pad1p5.f32"), 1e-4, "mel80_pad1p5");
  // The padding frames (after the reflect-padded edge) sit at the floor value.
  EXPECT_FLOAT_EQ(mel.values[149], mel.floor);
}

}  // namespace
}  // namespace chorus::audio
