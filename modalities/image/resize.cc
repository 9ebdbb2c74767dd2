#include "modalities/image/resize.h"

#include <algorithm>
#include <cmath>

namespace chorus::image {
namespace {

// For each output index along one axis: up to four input indices and their weights.
struct Taps {
  int count = 0;
  std::vector<int> index;     // [out * count]
  std::vector<float> weight;  // [out * count]
};

// Keys' cubic convolution kernel, a = -0.75 (PyTorch's upsample_bicubic2d).
void cubic_weights(float t, float w[4]) {
  constexpr float a = -0.75f;
  auto near = [](float x) { return ((a + 2) * x - (a + 3)) * x * x + 1; };       // |x| <= 1
  auto far = [](float x) { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; };  // 1 < |x| < 2
  w[0] = far(t + 1);
  w[1] = near(t);
  w[2] = near(1 - t);
  w[3] = far(2 - t);
}

Taps make_taps(int in, int out, ResizeMode mode) {
  Taps taps;
  taps.count = mode == ResizeMode::kBilinear ? 2 : 4;
  taps.index.resize(static_cast<size_t>(out) * taps.count);
  taps.weight.resize(taps.index.size());
  // PyTorch computes the scale in float (accscalar for CPU float is double; keep double here).
  const double scale = static_cast<double>(in) / out;
  for (int i = 0; i < out; ++i) {
    double src = (i + 0.5) * scale - 0.5;
    int* idx = &taps.index[static_cast<size_t>(i) * taps.count];
    float* w = &taps.weight[static_cast<size_t>(i) * taps.count];
    if (mode == ResizeMode::kBilinear) {
      src = std::max(src, 0.0);
      const int i0 = static_cast<int>(src);  // src >= 0: truncation is floor
      const float lambda = static_cast<float>(src - i0);
      idx[0] = std::min(i0, in - 1);
      idx[1] = std::min(i0 + 1, in - 1);
      w[0] = 1.0f - lambda;
      w[1] = lambda;
    } else {
      const double f = std::floor(src);
      const int i0 = static_cast<int>(f);
      cubic_weights(static_cast<float>(src - f), w);
      for (int k = 0; k < 4; ++k) idx[k] = std::clamp(i0 - 1 + k, 0, in - 1);
    }
  }
  return taps;
}

}  // namespace

PlanarImage crop(const PlanarImage& in, int top, int left, int height, int width) {
  PlanarImage out{in.channels, height, width, {}};
  out.data.resize(static_cast<size_t>(in.channels) * height * width);
  for (int c = 0; c < in.channels; ++c) {
    for (int y = 0; y < height; ++y) {
      const float* src = &in.data[(static_cast<size_t>(c) * in.height + top + y) * in.width + left];
      std::copy(src, src + width, &out.at(c, y, 0));
    }
  }
  return out;
}

void flip_horizontal(PlanarImage& image) {
  for (int c = 0; c < image.channels; ++c) {
    for (int y = 0; y < image.height; ++y) {
      float* row = &image.at(c, y, 0);
      std::reverse(row, row + image.width);
    }
  }
}

PlanarImage resize(const PlanarImage& in, int out_height, int out_width, ResizeMode mode) {
  if (out_height == in.height && out_width == in.width) return in;  // both kernels are identity
  const Taps tx = make_taps(in.width, out_width, mode);
  const Taps ty = make_taps(in.height, out_height, mode);
  // Horizontal pass first ([C, H_in, W_out]), then vertical: the same order of operations as
  // PyTorch's kernels, which interpolate along x inside each row and then combine rows.
  std::vector<float> tmp(static_cast<size_t>(in.channels) * in.height * out_width);
  for (int c = 0; c < in.channels; ++c) {
    for (int y = 0; y < in.height; ++y) {
      const float* row = in.row(c, y);
      float* dst = &tmp[(static_cast<size_t>(c) * in.height + y) * out_width];
      for (int x = 0; x < out_width; ++x) {
        const int* idx = &tx.index[static_cast<size_t>(x) * tx.count];
        const float* w = &tx.weight[static_cast<size_t>(x) * tx.count];
        float acc = 0;
        for (int k = 0; k < tx.count; ++k) acc += w[k] * row[idx[k]];
        dst[x] = acc;
      }
    }
  }
  PlanarImage out{in.channels, out_height, out_width, {}};
  out.data.resize(static_cast<size_t>(in.channels) * out_height * out_width);
  for (int c = 0; c < in.channels; ++c) {
    const float* plane = &tmp[static_cast<size_t>(c) * in.height * out_width];
    for (int y = 0; y < out_height; ++y) {
      const int* idx = &ty.index[static_cast<size_t>(y) * ty.count];
      const float* w = &ty.weight[static_cast<size_t>(y) * ty.count];
      float* dst = &out.at(c, y, 0);
      std::fill(dst, dst + out_width, 0.0f);
      for (int k = 0; k < ty.count; ++k) {
        const float* src = plane + static_cast<size_t>(idx[k]) * out_width;
        for (int x = 0; x < out_width; ++x) dst[x] += w[k] * src[x];
      }
    }
  }
  return out;
}

}  // namespace chorus::image
