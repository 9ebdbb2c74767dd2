// Planar float images and the geometric operations on them: crop, flip and resize.
//
// Resizing follows torch.nn.functional.interpolate(mode="bilinear"|"bicubic",
// align_corners=False, antialias=False) exactly (up to float rounding), so that a model trained
// on PyTorch-preprocessed images sees the same pixels here: output pixel i samples the input at
// (i + 0.5) * in / out - 0.5; bicubic uses Keys' kernel with a = -0.75 and clamps taps at the
// border; bilinear clamps negative source positions to 0. No antialiasing: a large downscale
// aliases, as it does in PyTorch without antialias=True.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace chorus::image {

// [channels, height, width] floats, row-major.
struct PlanarImage {
  int channels = 0;
  int height = 0;
  int width = 0;
  std::vector<float> data;
  float& at(int c, int y, int x) { return data[(static_cast<size_t>(c) * height + y) * width + x]; }
  float at(int c, int y, int x) const {
    return data[(static_cast<size_t>(c) * height + y) * width + x];
  }
  const float* row(int c, int y) const {
    return &data[(static_cast<size_t>(c) * height + y) * width];
  }
};

enum class ResizeMode { kBilinear, kBicubic };

// Rows [top, top + height) and columns [left, left + width) (must lie inside the image).
PlanarImage crop(const PlanarImage& in, int top, int left, int height, int width);

// Mirrors every row.
void flip_horizontal(PlanarImage& image);

// Resamples to out_height x out_width (both >= 1).
PlanarImage resize(const PlanarImage& in, int out_height, int out_width, ResizeMode mode);

}  // namespace chorus::image
