#include "core/tensor/float_formats.h"

#include <limits>

namespace chorus {
namespace {

// Generic round-to-nearest-even encoder for a small float format with `exp_bits` exponent bits
// and `man_bits` mantissa bits. `max_finite` is the largest finite value; values above it
// saturate (when `saturate`) or become infinity. Subnormals are produced exactly.
uint32_t EncodeSmallFloat(float f, int exp_bits, int man_bits, float max_finite, bool saturate,
                          uint32_t nan_code, uint32_t inf_code) {
  const uint32_t sign = std::signbit(f) ? 1u << (exp_bits + man_bits) : 0u;
  if (std::isnan(f)) return sign | nan_code;
  float a = std::fabs(f);
  if (std::isinf(a) && !saturate) return sign | inf_code;
  const int bias = (1 << (exp_bits - 1)) - 1;
  const int min_normal_exp = 1 - bias;
  if (a == 0.0f) return sign;
  int e;
  std::frexp(a, &e);                               // a = m * 2^e, m in [0.5, 1)
  int exp = e - 1;                                 // a = 1.xxx * 2^exp
  if (exp < min_normal_exp) exp = min_normal_exp;  // subnormal range shares the min exponent
  // quantum between representable values at this exponent
  const float quantum = std::ldexp(1.0f, exp - man_bits);
  float q = a / quantum;        // exact: power-of-two scaling
  float r = std::nearbyint(q);  // default FP environment rounds to nearest even
  float value = r * quantum;
  if (value > max_finite || std::isinf(a)) {
    if (saturate)
      value = max_finite;
    else
      return sign | inf_code;
  }
  if (value == 0.0f) return sign;  // underflow to (signed) zero
  // Re-encode `value` (exactly representable now).
  int ve;
  std::frexp(value, &ve);
  int vexp = ve - 1;
  uint32_t biased, mant;
  if (vexp < min_normal_exp) {
    biased = 0;
    mant = static_cast<uint32_t>(std::ldexp(value, -(min_normal_exp - man_bits)));
  } else {
    biased = static_cast<uint32_t>(vexp + bias);
    mant = static_cast<uint32_t>(std::ldexp(value, -(vexp - man_bits))) - (1u << man_bits);
  }
  return sign | (biased << man_bits) | mant;
}

float DecodeSmallFloat(uint32_t v, int exp_bits, int man_bits) {
  const uint32_t sign = (v >> (exp_bits + man_bits)) & 1u;
  const uint32_t biased = (v >> man_bits) & ((1u << exp_bits) - 1);
  const uint32_t mant = v & ((1u << man_bits) - 1);
  const int bias = (1 << (exp_bits - 1)) - 1;
  float out;
  if (biased == 0) {
    out = std::ldexp(static_cast<float>(mant), 1 - bias - man_bits);
  } else {
    out = std::ldexp(static_cast<float>(mant + (1u << man_bits)),
                     static_cast<int>(biased) - bias - man_bits);
  }
  return sign ? -out : out;
}

}  // namespace

float f16_to_float(uint16_t h) {
  const uint32_t biased = (h >> 10) & 0x1f;
  if (biased == 0x1f) {
    const bool neg = h & 0x8000;
    if (h & 0x3ff) return std::numeric_limits<float>::quiet_NaN();
    return neg ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  }
  return DecodeSmallFloat(h, 5, 10);
}

uint16_t float_to_f16(float f) {
  return static_cast<uint16_t>(EncodeSmallFloat(f, 5, 10, 65504.0f, /*saturate=*/false,
                                                /*nan=*/0x7e00, /*inf=*/0x7c00));
}

float fp8e4m3_to_float(uint8_t v) {
  if ((v & 0x7f) == 0x7f) return std::numeric_limits<float>::quiet_NaN();  // S.1111.111
  return DecodeSmallFloat(v, 4, 3);
}

uint8_t float_to_fp8e4m3(float f) {
  return static_cast<uint8_t>(EncodeSmallFloat(f, 4, 3, 448.0f, /*saturate=*/true, 0x7f, 0x7e));
}

float fp8e5m2_to_float(uint8_t v) {
  const uint32_t biased = (v >> 2) & 0x1f;
  if (biased == 0x1f) {
    if (v & 0x3) return std::numeric_limits<float>::quiet_NaN();
    return (v & 0x80) ? -std::numeric_limits<float>::infinity()
                      : std::numeric_limits<float>::infinity();
  }
  return DecodeSmallFloat(v, 5, 2);
}

uint8_t float_to_fp8e5m2(float f) {
  return static_cast<uint8_t>(EncodeSmallFloat(f, 5, 2, 57344.0f, /*saturate=*/true, 0x7f, 0x7c));
}

}  // namespace chorus
