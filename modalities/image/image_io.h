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

// Decodes PNG, JPEG, BMP, GIF (first frame) or binary 8-bit PNM (P5/P6) with Debian's
// stb_image 2.27. Grey is replicated into R, G and B; alpha is dropped (not composited). Errors
// are InvalidArgument with a message naming the problem (the caller prefixes the file name).
// Before stb sees a file, its header is read here and refused when stb would misbehave on it:
// sizes over the limits, JPEG Huffman tables that overflow stb's arrays, PNG chunks longer
// than the file (stb would allocate what they declare), PNM numbers over 9 digits (int
// overflow), 16-bit PNM (a buffer over-read in stb's conversion) and short PNM pixel data.
absl::StatusOr<RgbImage> decode_image(std::string_view bytes, const ImageLimits& limits);

}  // namespace chorus::image
