// Reduced-precision conversions against independent references: the compiler's own _Float16
// for IEEE half, and the published limits/encodings of bf16 and the OCP fp8 formats.
#include "core/tensor/float_formats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/tensor/philox.h"
#include "core/tensor/tensor.h"

namespace chorus {
namespace {

TEST(Float16, MatchesCompilerHalfOnManyValues) {
  // _Float16 conversion in GCC rounds to nearest even: an independent reference.
  for (uint32_t i = 0; i < 200000; ++i) {
    const uint32_t w = philox_word(3, 0, i);
    float f = std::bit_cast<float>((w & 0x8fffffffu) | 0x30000000u);    // spread over f16 range
    if (i % 7 == 0) f = std::ldexp(static_cast<float>(w % 4096), -30);  // subnormals
    const _Float16 ref = static_cast<_Float16>(f);
    ASSERT_EQ(float_to_f16(f), std::bit_cast<uint16_t>(ref)) << "f = " << f;
  }
  for (uint32_t h = 0; h < 65536; ++h) {
    const float ref = static_cast<float>(std::bit_cast<_Float16>(static_cast<uint16_t>(h)));
    const float got = f16_to_float(static_cast<uint16_t>(h));
    if (std::isnan(ref)) {
      EXPECT_TRUE(std::isnan(got));
    } else {
      ASSERT_EQ(got, ref) << "h = " << h;
    }
  }
  EXPECT_EQ(float_to_f16(65520.0f), 0x7c00);  // rounds past the max finite: infinity
  EXPECT_EQ(float_to_f16(65504.0f), 0x7bff);
}

TEST(BFloat16, RoundsToNearestEven) {
  EXPECT_EQ(float_to_bf16(1.0f), 0x3f80);
  // 1 + 2^-8 lies exactly between 1 and 1 + 2^-7: ties go to the even mantissa (1.0).
  EXPECT_EQ(float_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  // 1 + 3·2^-8 lies between 1+2^-7 (odd) and 1+2^-6 (even): rounds up to even.
  EXPECT_EQ(float_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  EXPECT_EQ(float_to_bf16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)), 0x3f81);
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(std::nanf("")))));
  EXPECT_EQ(bf16_to_float(float_to_bf16(-2.5f)), -2.5f);
  EXPECT_TRUE(std::isinf(bf16_to_float(float_to_bf16(std::numeric_limits<float>::max()))));
}

TEST(Float8E4M3, PublishedLimitsAndSaturation) {
  EXPECT_EQ(fp8e4m3_to_float(0x7e), 448.0f);                // max finite S.1111.110
  EXPECT_EQ(fp8e4m3_to_float(0x01), std::ldexp(1.0f, -9));  // min subnormal
  EXPECT_EQ(fp8e4m3_to_float(0x08), std::ldexp(1.0f, -6));  // min normal
  EXPECT_TRUE(std::isnan(fp8e4m3_to_float(0x7f)));
  EXPECT_EQ(float_to_fp8e4m3(1000.0f), 0x7e);  // saturates
  EXPECT_EQ(float_to_fp8e4m3(-1e30f), 0xfe);
  EXPECT_EQ(float_to_fp8e4m3(std::numeric_limits<float>::infinity()), 0x7e);
  // Between 1.0 (0x38) and 1.125 (0x39), the midpoint 1.0625 ties to the even code 0x38.
  EXPECT_EQ(float_to_fp8e4m3(1.0625f), 0x38);
  EXPECT_EQ(float_to_fp8e4m3(1.0626f), 0x39);
  // Every finite code round-trips.
  for (int c = 0; c < 256; ++c) {
    const float f = fp8e4m3_to_float(static_cast<uint8_t>(c));
    if (std::isnan(f)) continue;
    if (f == 0.0f) continue;  // +0 and -0 both fine
    EXPECT_EQ(float_to_fp8e4m3(f), c) << c;
  }
}

TEST(Float8E5M2, PublishedLimitsAndSaturation) {
  EXPECT_EQ(fp8e5m2_to_float(0x7b), 57344.0f);               // max finite
  EXPECT_EQ(fp8e5m2_to_float(0x01), std::ldexp(1.0f, -16));  // min subnormal
  EXPECT_TRUE(std::isinf(fp8e5m2_to_float(0x7c)));
  EXPECT_TRUE(std::isnan(fp8e5m2_to_float(0x7d)));
  EXPECT_EQ(float_to_fp8e5m2(1e6f), 0x7b);  // saturating conversion
  for (int c = 0; c < 256; ++c) {
    const float f = fp8e5m2_to_float(static_cast<uint8_t>(c));
    if (std::isnan(f) || std::isinf(f) || f == 0.0f) continue;
    EXPECT_EQ(float_to_fp8e5m2(f), c) << c;
  }
}

TEST(TensorConversion, AllDtypePairsRoundTripSmallIntegers) {
  // Small integers are exact in every dtype (bool aside): converting through any pair must
  // preserve them.
  std::vector<double> values = {0, 1, 2, 3, 7, 12};
  for (DType from : kAllDTypes) {
    for (DType to : kAllDTypes) {
      if (from == DType::kBool || to == DType::kBool) continue;
      Tensor a = Tensor::from_doubles(values, {2, 3}, from);
      Tensor b = a.to(to).to(DType::kF64);
      EXPECT_EQ(b.to_vector<double>(), values) << dtype_name(from) << "->" << dtype_name(to);
    }
  }
  Tensor flags = Tensor::from_doubles({0, 2, -1}, {3}, DType::kBool);
  EXPECT_EQ(flags.to_vector<int32_t>(), (std::vector<int32_t>{0, 1, 1}));
}

}  // namespace
}  // namespace chorus
