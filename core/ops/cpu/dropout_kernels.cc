#include "core/ops/cpu/dropout_kernels.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/tensor/dispatch.h"
#include "core/tensor/parallel.h"
#include "core/tensor/philox.h"

namespace chorus::cpu {

void dropout_forward(const Tensor& out, const Tensor& mask, const Tensor& x, double p, double scale,
                     uint64_t seed, uint64_t offset) {
  const int64_t n = x.numel();
  // uniform_from_word(w) = (w >> 8)·2^-24 exactly, so "u >= p" is "(w >> 8) >= ceil(p·2^24)"
  // in integers (p·2^24 is exact in double): the same decision, without float rounding.
  const uint32_t threshold = static_cast<uint32_t>(std::ceil(p * 16777216.0));
  const std::array<uint32_t, 2> key{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
  auto* m = reinterpret_cast<uint8_t*>(mask.data<bool>());
  CHORUS_DISPATCH_FLOAT(x.dtype(), T, [&] {
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const T s = static_cast<T>(scale);
    // One Philox block yields the words of 4 consecutive elements; threads split blocks.
    const int64_t blocks = (n + 3) / 4;
    parallel_for(0, blocks, kElementwiseGrain / 16, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        const uint64_t ctr = offset + static_cast<uint64_t>(b);
        const auto words = philox4x32_10(
            {static_cast<uint32_t>(ctr), static_cast<uint32_t>(ctr >> 32), 0, 0}, key);
        const int64_t i0 = 4 * b, cnt = std::min<int64_t>(4, n - i0);
        for (int64_t k = 0; k < cnt; ++k) {
          const bool keep = (words[k] >> 8) >= threshold;
          m[i0 + k] = keep;
          po[i0 + k] = keep ? px[i0 + k] * s : T(0);
        }
      }
    });
  });
}

void dropout_backward(const Tensor& gx, const Tensor& g, const Tensor& mask, double scale) {
  const int64_t n = g.numel();
  const auto* m = reinterpret_cast<const uint8_t*>(mask.data<bool>());
  CHORUS_DISPATCH_FLOAT(g.dtype(), T, [&] {
    const T* pg = g.data<T>();
    T* po = gx.data<T>();
    const T s = static_cast<T>(scale);
    parallel_for(0, n, kElementwiseGrain, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) po[i] = pg[i] * (m[i] ? s : T(0));
    });
  });
}

}  // namespace chorus::cpu
