#include "core/ops/cpu/grouped_matmul_kernels.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/ops/cpu/gemm_kernels.h"
#include "core/tensor/dispatch.h"
#include "core/tensor/parallel.h"

namespace chorus::cpu {

namespace {

// Runs fn(e) for every non-empty group. A group whose GEMM is large (more than kSmallGemm
// multiply-adds) runs alone with OpenBLAS's own threads; the small ones, typical of many
// experts each receiving a few tokens, run side by side on our pool with single-threaded BLAS.
// Splitting by size keeps a skewed routing (one huge expert, many tiny ones) fast as well.
// Every group writes a disjoint part of the output, so the result does not depend on the
// schedule.
template <class Fn>
void for_each_group(int64_t groups, const int64_t* offsets, int64_t work_per_row, const Fn& fn) {
  std::vector<int64_t> small;
  int64_t small_work = 0;
  for (int64_t e = 0; e < groups; ++e) {
    const int64_t rows = offsets[e + 1] - offsets[e];
    if (rows == 0) continue;
    const int64_t work = rows * work_per_row;
    if (work > kSmallGemm) {
      fn(e);
    } else {
      small.push_back(e);
      small_work += work;
    }
  }
  const auto count = static_cast<int64_t>(small.size());
  if (count == 0) return;
  if (count == 1 || num_threads() == 1) {
    for (int64_t e : small) fn(e);
    return;
  }
  BlasSingleThreadScope single;
  const int64_t average = std::max<int64_t>(1, small_work / count);
  const int64_t grain = std::max<int64_t>(1, kSmallGemm / average);
  parallel_for(0, count, grain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) fn(small[i]);
  });
}

}  // namespace

void grouped_matmul_forward(const Tensor& out, const Tensor& x, const Tensor& w,
                            const int64_t* offsets) {
  const int64_t groups = w.size(0), d = w.size(1), f = w.size(2);
  CHORUS_DISPATCH_FLOAT(x.dtype(), T, [&] {
    const T* xp = x.data<T>();
    const T* wp = w.data<T>();
    T* op = out.data<T>();
    for_each_group(groups, offsets, d * f, [&](int64_t e) {
      const int64_t r0 = offsets[e], rows = offsets[e + 1] - r0;
      gemm<T>(false, false, rows, f, d, T(1), xp + r0 * d, d, wp + e * d * f, f, T(0), op + r0 * f,
              f);
    });
  });
}

void grouped_matmul_backward_input(const Tensor& dx, const Tensor& g, const Tensor& w,
                                   const int64_t* offsets) {
  const int64_t groups = w.size(0), d = w.size(1), f = w.size(2);
  CHORUS_DISPATCH_FLOAT(g.dtype(), T, [&] {
    const T* gp = g.data<T>();
    const T* wp = w.data<T>();
    T* dxp = dx.data<T>();
    for_each_group(groups, offsets, d * f, [&](int64_t e) {
      const int64_t r0 = offsets[e], rows = offsets[e + 1] - r0;
      gemm<T>(false, true, rows, d, f, T(1), gp + r0 * f, f, wp + e * d * f, f, T(0), dxp + r0 * d,
              d);
    });
  });
}

void grouped_matmul_backward_weight(const Tensor& dw, const Tensor& x, const Tensor& g,
                                    const int64_t* offsets) {
  const int64_t groups = dw.size(0), d = dw.size(1), f = dw.size(2);
  CHORUS_DISPATCH_FLOAT(x.dtype(), T, [&] {
    const T* xp = x.data<T>();
    const T* gp = g.data<T>();
    T* dwp = dw.data<T>();
    for (int64_t e = 0; e < groups; ++e) {  // an expert that got no rows gets no gradient
      if (offsets[e + 1] == offsets[e]) std::memset(dwp + e * d * f, 0, sizeof(T) * d * f);
    }
    for_each_group(groups, offsets, d * f, [&](int64_t e) {
      const int64_t r0 = offsets[e], rows = offsets[e + 1] - r0;
      gemm<T>(true, false, d, f, rows, T(1), xp + r0 * d, d, gp + r0 * f, f, T(0), dwp + e * d * f,
              f);
    });
  });
}

}  // namespace chorus::cpu
