#include "core/ops/cpu/row_io.h"

#include "core/ops/cpu/simd.h"
#include "core/tensor/float_formats.h"

namespace chorus::cpu {
namespace {

typedef uint16_t U16x8 __attribute__((vector_size(16)));
typedef uint32_t U32x8 __attribute__((vector_size(32)));

CHORUS_SIMD_INLINE void widen(const uint16_t* src, float* dst, int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    U16x8 h;
    std::memcpy(&h, src + j, sizeof h);
    const U32x8 w = __builtin_convertvector(h, U32x8) << 16;
    std::memcpy(dst + j, &w, sizeof w);
  }
  for (; j < n; ++j) dst[j] = bf16_to_float(src[j]);
}

CHORUS_SIMD_INLINE void narrow(const float* src, uint16_t* dst, int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    U32x8 u;
    std::memcpy(&u, src + j, sizeof u);
    const U32x8 rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    const U32x8 nan = (u >> 16) | 0x40u;
    const U32x8 r = (u & 0x7fffffffu) > 0x7f800000u ? nan : rounded;
    const U16x8 h = __builtin_convertvector(r, U16x8);
    std::memcpy(dst + j, &h, sizeof h);
  }
  for (; j < n; ++j) dst[j] = float_to_bf16(src[j]);
}

}  // namespace

CHORUS_SIMD_CLONES void bf16_to_float_row(const uint16_t* src, float* dst, int64_t n) {
  widen(src, dst, n);
}

CHORUS_SIMD_CLONES void float_to_bf16_row(const float* src, uint16_t* dst, int64_t n) {
  narrow(src, dst, n);
}

}  // namespace chorus::cpu
