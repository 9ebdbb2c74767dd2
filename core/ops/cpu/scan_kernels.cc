#include "core/ops/cpu/scan_kernels.h"

#include <algorithm>
#include <type_traits>
#include <vector>

#include "core/ops/cpu/typed_dispatch.h"
#include "core/tensor/parallel.h"

namespace chorus::cpu {

void cumsum_kernel(const Tensor& out, const Tensor& x, int64_t outer, int64_t n, int64_t inner,
                   bool reverse) {
  if (outer * n * inner == 0) return;
  // Tasks own (outer slice, block of inner columns). The scan walks down the dim one row at a
  // time, adding a whole row of columns into running sums: contiguous, vectorisable reads
  // whatever the dim. Blocks split the columns when there are too few outer slices to share.
  const int64_t blocks =
      outer >= num_threads() ? 1 : std::min<int64_t>(num_threads(), (inner + 255) / 256);
  const int64_t width = (inner + blocks - 1) / blocks;
  CHORUS_DISPATCH_REAL(x.dtype(), T, [&] {
    using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
    const T* xp = static_cast<const T*>(x.raw_data());
    T* op = static_cast<T*>(out.raw_data());
    if (inner == 1) {  // scanning the last dim: one running sum per contiguous row
      parallel_for(0, outer, std::max<int64_t>(1, kElementwiseGrain / n),
                   [&](int64_t r0, int64_t r1) {
                     for (int64_t o = r0; o < r1; ++o) {
                       const T* row = xp + o * n;
                       T* dst = op + o * n;
                       Acc acc = 0;
                       if (reverse) {
                         for (int64_t j = n - 1; j >= 0; --j)
                           dst[j] = static_cast<T>(acc += row[j]);
                       } else {
                         for (int64_t j = 0; j < n; ++j) dst[j] = static_cast<T>(acc += row[j]);
                       }
                     }
                   });
      return;
    }
    const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / (n * width));
    parallel_for(0, outer * blocks, grain, [&](int64_t t0, int64_t t1) {
      std::vector<Acc> acc(static_cast<size_t>(width));
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t o = t / blocks, c0 = (t % blocks) * width;
        const int64_t c1 = std::min(inner, c0 + width);
        std::fill(acc.begin(), acc.end(), Acc(0));
        for (int64_t s = 0; s < n; ++s) {
          const int64_t j = reverse ? n - 1 - s : s;
          const T* row = xp + (o * n + j) * inner;
          T* dst = op + (o * n + j) * inner;
          for (int64_t c = c0; c < c1; ++c) {
            acc[c - c0] += static_cast<Acc>(row[c]);
            dst[c] = static_cast<T>(acc[c - c0]);
          }
        }
      }
    });
  });
}

}  // namespace chorus::cpu
