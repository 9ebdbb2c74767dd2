// Image file bytes -> 8-bit RGB pixels, with the size checked before any pixel is decoded.
//
// Tensor-free on purpose: the libFuzzer target links this file (plus stb_image) alone.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace chorus::image {

// Interleaved 8-bit RGB, row-major: pixel (y, x) channel c at rgb[(y * width + x) * 3 + c].
struct RgbImage {
  int width = 0;
  int height = 0;
  int source_channels = 0;  // channels in the file: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA
  std::string format;       // "png", "jpeg", "bmp", "gif", "pnm"
  std::vector<uint8_t> rgb;
};

struct ImageLimits {
  int64_t max_dimension = 8192;          // largest accepted width or height
  int64_t max_pixels = 8192LL * 8192LL;  // largest accepted width * height
};

// The format named by the first bytes ("png", ...), or "" when none of the supported ones.
std::string sniff_image_format(std::string_view bytes);

// Decodes PNG, JPEG, BMP, GIF (first frame) or PNM. Grey is replicated into R, G and B; alpha is
// dropped (not composited). Errors are InvalidArgument with a message naming the problem (the
// caller prefixes the file name).
absl::StatusOr<RgbImage> decode_image(std::string_view bytes, const ImageLimits& limits);

}  // namespace chorus::image
