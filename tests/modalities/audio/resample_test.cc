// Resampling against analytic signals: a band-limited tone must come out as the same tone at
// the new rate; content above the new Nyquist must be removed.
#include "modalities/audio/resample.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

namespace chorus::audio {
namespace {

std::vector<float> tone(double hz, int rate, int n) {
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i)
    x[i] = static_cast<float>(std::sin(2 * std::numbers::pi * hz * i / rate));
  return x;
}

TEST(Resampler, ToneSurvivesRateChanges) {
  for (int in_rate : {8000, 22050, 44100, 48000, 44101}) {
    const int n = in_rate / 2;
    const auto x = tone(1000.0, in_rate, n);
    const auto y = Resampler(in_rate, 16000).process(x.data(), n);
    EXPECT_EQ(static_cast<int64_t>(y.size()), (int64_t{n} * 16000 + in_rate - 1) / in_rate);
    const auto ref = tone(1000.0, 16000, static_cast<int>(y.size()));
    double max_err = 0;
    for (size_t j = 200; j + 200 < y.size(); ++j) {  // away from the edges (zero beyond)
      max_err = std::max(max_err, static_cast<double>(std::abs(y[j] - ref[j])));
    }
    EXPECT_LT(max_err, 2e-3) << in_rate << " Hz";
  }
}

TEST(Resampler, RemovesContentAboveTheNewNyquist) {
  const auto x = tone(11000.0, 44100, 22050);  // above 8 kHz: must vanish at 16 kHz
  const auto y = Resampler(44100, 16000).process(x.data(), 22050);
  double rms = 0;
  for (size_t j = 200; j + 200 < y.size(); ++j) rms += y[j] * y[j];
  rms = std::sqrt(rms / (y.size() - 400));
  EXPECT_LT(rms, 1e-3);
}

TEST(Resampler, SameRateIsIdentityAndDcPasses) {
  const std::vector<float> x = {0.1f, -0.2f, 0.3f};
  EXPECT_EQ(Resampler(16000, 16000).process(x.data(), 3), x);
  const std::vector<float> dc(4410, 0.5f);
  const auto y = Resampler(44100, 16000).process(dc.data(), 4410);
  for (size_t j = 100; j + 100 < y.size(); ++j) ASSERT_NEAR(y[j], 0.5f, 1e-5);
}

}  // namespace
}  // namespace chorus::audio
