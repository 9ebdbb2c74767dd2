// The vectorised bf16 row conversions the kernels stage bf16 rows with
// (core/ops/cpu/row_io.h) must round exactly like float_formats.h.
#include "core/ops/cpu/row_io.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>

#include "core/tensor/float_formats.h"
#include "core/tensor/philox.h"

namespace chorus::cpu {
namespace {

TEST(RowIo, Bf16ConversionsMatchTheScalarRounding) {
  // Random bit patterns (every class: normals, subnormals, infinities, NaNs) plus exact ties.
  const int64_t n = 4099;  // a tail after the vectors
  std::vector<float> f(n);
  for (int64_t i = 0; i < n; ++i) f[i] = std::bit_cast<float>(philox_word(3, 0, i));
  f[0] = std::bit_cast<float>(0x3f808000u);  // tie, even below: rounds down
  f[1] = std::bit_cast<float>(0x3f818000u);  // tie, odd below: rounds up
  f[2] = std::numeric_limits<float>::infinity();
  f[3] = std::nanf("");
  f[4] = -0.0f;
  std::vector<uint16_t> b(n);
  float_to_bf16_row(f.data(), b.data(), n);
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(b[i], float_to_bf16(f[i])) << i;
  std::vector<float> back(n);
  bf16_to_float_row(b.data(), back.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(std::bit_cast<uint32_t>(back[i]), std::bit_cast<uint32_t>(bf16_to_float(b[i]))) << i;
  }
}

}  // namespace
}  // namespace chorus::cpu
