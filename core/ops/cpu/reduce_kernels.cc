#include "core/ops/cpu/reduce_kernels.h"

#include "core/tensor/dispatch.h"
#include "core/tensor/parallel.h"

namespace chorus::cpu {

void sum_rows(const Tensor& out, const Tensor& rows) {
  const int64_t outer = rows.shape()[0], inner = rows.shape()[1];
  CHORUS_DISPATCH_FLOAT(rows.dtype(), T, [&] {
    const T* x = rows.data<T>();
    T* o = out.data<T>();
    parallel_for(0, outer, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(inner, 1)),
                 [&](int64_t r0, int64_t r1) {
                   for (int64_t r = r0; r < r1; ++r) {
                     const T* row = x + r * inner;
                     // Four independent double accumulators: accurate and vectorisable.
                     double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                     int64_t j = 0;
                     for (; j + 4 <= inner; j += 4) {
                       s0 += row[j];
                       s1 += row[j + 1];
                       s2 += row[j + 2];
                       s3 += row[j + 3];
                     }
                     for (; j < inner; ++j) s0 += row[j];
                     o[r] = static_cast<T>((s0 + s1) + (s2 + s3));
                   }
                 });
  });
}

}  // namespace chorus::cpu
