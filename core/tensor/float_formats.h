// Scalar conversions between float and the reduced-precision formats Chorus stores:
// bfloat16, IEEE half, and the two OCP 8-bit float formats (E4M3 "fn" without infinities,
// E5M2 with IEEE-like infinities). All conversions from float round to nearest, ties to even.
// The fp8 conversions saturate: finite values beyond the largest representable magnitude
// become that magnitude (448 for E4M3, 57344 for E5M2), NaN stays NaN.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace chorus {

struct BFloat16 {
  uint16_t bits = 0;
};
struct Float16 {
  uint16_t bits = 0;
};
struct Float8E4M3 {
  uint8_t bits = 0;
};
struct Float8E5M2 {
  uint8_t bits = 0;
};

inline float bf16_to_float(uint16_t b) { return std::bit_cast<float>(uint32_t{b} << 16); }

inline uint16_t float_to_bf16(float f) {
  uint32_t u = std::bit_cast<uint32_t>(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
  uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);  // round half to even
  return static_cast<uint16_t>((u + rounding) >> 16);
}

float f16_to_float(uint16_t h);
uint16_t float_to_f16(float f);
float fp8e4m3_to_float(uint8_t v);
uint8_t float_to_fp8e4m3(float f);
float fp8e5m2_to_float(uint8_t v);
uint8_t float_to_fp8e5m2(float f);

}  // namespace chorus
