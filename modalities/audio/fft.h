// A small mixed-radix complex FFT for the sizes a spectrogram front-end uses (Whisper's 400 =
// 2^4 * 5^2), written here so the audio decoder needs no FFT library. Decimation in time after
// Cooley-Tukey: radix-4 and radix-5 butterflies written out, a generic O(p^2) one for other
// factors. Any N >= 1 works (a large prime factor degrades towards O(N^2)). LogMel feeds it two
// real frames per transform.
#pragma once

#include <complex>
#include <vector>

namespace chorus::audio {

class Fft {
 public:
  explicit Fft(int n);
  int size() const { return n_; }
  // out[k] = sum_t in[t] * exp(-2 pi i k t / n); `in` and `out` hold n values and must differ.
  void forward(const std::complex<double>* in, std::complex<double>* out) const;

 private:
  void work(std::complex<double>* out, const std::complex<double>* in, int fstride,
            const int* factors) const;
  void butterfly(std::complex<double>* out, int fstride, int m, int p) const;
  void butterfly4(std::complex<double>* out, int fstride, int m) const;
  void butterfly5(std::complex<double>* out, int fstride, int m) const;

  int n_;
  std::vector<int> factors_;  // pairs (radix p, remaining length m)
  std::vector<std::complex<double>> twiddles_;
};

}  // namespace chorus::audio
