#include "core/ops/cpu/dropout_kernels.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "core/ops/cpu/simd.h"
#include "core/tensor/dispatch.h"
#include "core/tensor/parallel.h"
#include "core/tensor/philox.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CHORUS_DROPOUT_AVX2 1
#endif

namespace chorus::cpu {
namespace {

struct Stream {
  uint64_t offset;  // Philox counter of block 0
  uint32_t key0, key1;
  uint32_t threshold;  // keep iff (word >> 8) >= threshold
};

// Elements of blocks [b0, b1) one Philox block (4 elements) at a time.
template <class T>
void dropout_blocks(const Stream& st, const T* x, T* out, uint8_t* mask, T scale, int64_t n,
                    int64_t b0, int64_t b1) {
  for (int64_t b = b0; b < b1; ++b) {
    const uint64_t ctr = st.offset + static_cast<uint64_t>(b);
    const auto words = philox4x32_10(
        {static_cast<uint32_t>(ctr), static_cast<uint32_t>(ctr >> 32), 0, 0}, {st.key0, st.key1});
    const int64_t i0 = 4 * b, cnt = std::min<int64_t>(4, n - i0);
    for (int64_t k = 0; k < cnt; ++k) {
      const bool keep = (words[k] >> 8) >= st.threshold;
      mask[i0 + k] = keep;
      out[i0 + k] = keep ? x[i0 + k] * scale : T(0);
    }
  }
}

#ifdef CHORUS_DROPOUT_AVX2
// hi and lo 32 bits of a·m per 32-bit lane.
__attribute__((target("avx2"), always_inline)) inline void mulhilo(__m256i a, __m256i m,
                                                                   __m256i& hi, __m256i& lo) {
  const __m256i even = _mm256_mul_epu32(a, m);
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
  hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
  lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

// The same stream, 8 Philox blocks (32 elements) per step: lane l of each vector follows block
// b + l through the 10 rounds (32x32->64-bit products from vpmuludq on even and odd lanes),
// then the keep masks are transposed into element order. Handles the full groups of
// [b0, b1) and returns where it stopped.
__attribute__((target("avx2"))) int64_t dropout_blocks_avx2(const Stream& st, const float* x,
                                                            float* out, uint8_t* mask, float scale,
                                                            int64_t b0, int64_t b1) {
  const __m256i mul0 = _mm256_set1_epi32(static_cast<int>(0xD2511F53u));
  const __m256i mul1 = _mm256_set1_epi32(static_cast<int>(0xCD9E8D57u));
  const __m256i limit = _mm256_set1_epi32(static_cast<int>(st.threshold) - 1);
  const __m256i one_bytes = _mm256_set1_epi8(1);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  const __m256 vscale = _mm256_set1_ps(scale);
  int64_t b = b0;
  for (; b + 8 <= b1; b += 8) {
    alignas(32) uint32_t lo32[8], hi32[8];
    for (int l = 0; l < 8; ++l) {
      const uint64_t ctr = st.offset + static_cast<uint64_t>(b + l);
      lo32[l] = static_cast<uint32_t>(ctr);
      hi32[l] = static_cast<uint32_t>(ctr >> 32);
    }
    __m256i c0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(lo32));
    __m256i c1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(hi32));
    __m256i c2 = _mm256_setzero_si256(), c3 = _mm256_setzero_si256();
    uint32_t k0 = st.key0, k1 = st.key1;
    for (int round = 0; round < 10; ++round) {
      __m256i hi0, lo0, hi1, lo1;
      mulhilo(c0, mul0, hi0, lo0);
      mulhilo(c2, mul1, hi1, lo1);
      c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32(static_cast<int>(k0)));
      c1 = lo1;
      c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32(static_cast<int>(k1)));
      c3 = lo0;
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    // Keep masks (-1/0) per word, still one lane per block. (word >> 8) < 2^24, so the signed
    // compare is exact.
    const __m256i w0 = _mm256_cmpgt_epi32(_mm256_srli_epi32(c0, 8), limit);
    const __m256i w1 = _mm256_cmpgt_epi32(_mm256_srli_epi32(c1, 8), limit);
    const __m256i w2 = _mm256_cmpgt_epi32(_mm256_srli_epi32(c2, 8), limit);
    const __m256i w3 = _mm256_cmpgt_epi32(_mm256_srli_epi32(c3, 8), limit);
    // Transpose to element order: m[k] holds elements 8k..8k+7 (blocks 2k and 2k+1).
    const __m256i t0 = _mm256_unpacklo_epi32(w0, w1), t1 = _mm256_unpacklo_epi32(w2, w3);
    const __m256i t2 = _mm256_unpackhi_epi32(w0, w1), t3 = _mm256_unpackhi_epi32(w2, w3);
    const __m256i u0 = _mm256_unpacklo_epi64(t0, t1), u1 = _mm256_unpackhi_epi64(t0, t1);
    const __m256i u2 = _mm256_unpacklo_epi64(t2, t3), u3 = _mm256_unpackhi_epi64(t2, t3);
    const __m256i m[4] = {
        _mm256_permute2x128_si256(u0, u1, 0x20), _mm256_permute2x128_si256(u2, u3, 0x20),
        _mm256_permute2x128_si256(u0, u1, 0x31), _mm256_permute2x128_si256(u2, u3, 0x31)};
    const int64_t i0 = 4 * b;
    for (int k = 0; k < 4; ++k) {
      const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i0 + 8 * k), vscale);
      _mm256_storeu_ps(out + i0 + 8 * k, _mm256_and_ps(v, _mm256_castsi256_ps(m[k])));
    }
    // 32 int32 masks to 32 bytes of 0/1.
    const __m256i bytes =
        _mm256_packs_epi16(_mm256_packs_epi32(m[0], m[1]), _mm256_packs_epi32(m[2], m[3]));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(mask + i0),
                        _mm256_and_si256(_mm256_permutevar8x32_epi32(bytes, order), one_bytes));
  }
  return b;
}
#endif

// The blocks of [b0, b1) a vector path can take; returns where the scalar path continues.
int64_t vector_blocks(const Stream& st, const float* x, float* out, uint8_t* mask, float scale,
                      int64_t b0, int64_t b1) {
#ifdef CHORUS_DROPOUT_AVX2
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) return dropout_blocks_avx2(st, x, out, mask, scale, b0, b1);
#endif
  return b0;
}
int64_t vector_blocks(const Stream&, const double*, double*, uint8_t*, double, int64_t b0,
                      int64_t) {
  return b0;  // f64 serves gradient checks: the scalar path is enough
}

// out = g·mask·scale, the mask bytes widened to a vector of 0/1 factors.
template <class T>
CHORUS_SIMD_INLINE void scale_by_mask_impl(const T* g, const uint8_t* mask, T* out, int64_t n,
                                           T scale) {
  constexpr int64_t L = simd::kLanes<T>;
  typedef uint8_t Bytes __attribute__((vector_size(L)));
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    Bytes b;
    std::memcpy(&b, mask + i, sizeof b);
    const simd::Vec<T> keep = __builtin_convertvector(b, simd::Vec<T>);
    simd::store(out + i, simd::load(g + i) * keep * scale);
  }
  for (; i < n; ++i) out[i] = g[i] * T(mask[i]) * scale;
}

CHORUS_SIMD_CLONES void scale_by_mask(const float* g, const uint8_t* mask, float* out, int64_t n,
                                      float scale) {
  scale_by_mask_impl(g, mask, out, n, scale);
}
CHORUS_SIMD_CLONES void scale_by_mask(const double* g, const uint8_t* mask, double* out, int64_t n,
                                      double scale) {
  scale_by_mask_impl(g, mask, out, n, scale);
}

}  // namespace

void dropout_forward(const Tensor& out, const Tensor& mask, const Tensor& x, double p, double scale,
                     uint64_t seed, uint64_t offset) {
  const int64_t n = x.numel();
  // uniform_from_word(w) = (w >> 8)·2^-24 exactly, so "u >= p" is "(w >> 8) >= ceil(p·2^24)"
  // in integers (p·2^24 is exact in double): the same decision, without float rounding.
  const uint32_t threshold = static_cast<uint32_t>(std::ceil(p * 16777216.0));
  const Stream st{offset, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                  threshold};
  auto* m = reinterpret_cast<uint8_t*>(mask.data<bool>());
  CHORUS_DISPATCH_FLOAT(x.dtype(), T, [&] {
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const T s = static_cast<T>(scale);
    // One Philox block yields the words of 4 consecutive elements; threads split blocks. Full
    // blocks go through the AVX2 path when there is one; the last, partial block never does.
    const int64_t blocks = (n + 3) / 4, full = n / 4;
    parallel_for(0, blocks, kElementwiseGrain / 16, [&](int64_t b0, int64_t b1) {
      const int64_t b = vector_blocks(st, px, po, m, s, b0, std::min(b1, full));
      dropout_blocks(st, px, po, m, s, n, b, b1);
    });
  });
}

void dropout_backward(const Tensor& gx, const Tensor& g, const Tensor& mask, double scale) {
  const int64_t n = g.numel();
  const auto* m = reinterpret_cast<const uint8_t*>(mask.data<bool>());
  CHORUS_DISPATCH_FLOAT(g.dtype(), T, [&] {
    const T* pg = g.data<T>();
    T* po = gx.data<T>();
    parallel_for(0, n, kElementwiseGrain, [&](int64_t i0, int64_t i1) {
      scale_by_mask(pg + i0, m + i0, po + i0, i1 - i0, static_cast<T>(scale));
    });
  });
}

}  // namespace chorus::cpu
