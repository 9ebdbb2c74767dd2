#include "core/ops/cpu/moe_permute_kernels.h"

#include <algorithm>
#include <cstring>

#include "core/ops/cpu/row_grain.h"
#include "core/tensor/dispatch.h"
#include "core/tensor/parallel.h"

namespace chorus::cpu {

namespace {

// Rows per task so that a task moves about kElementwiseGrain elements.

}  // namespace

void moe_gather_rows(const Tensor& out, const Tensor& x, const Tensor& row_slot, int64_t k,
                     const Tensor& weights) {
  const int64_t m = out.size(0), d = out.size(1);
  const int64_t* slot = row_slot.data<int64_t>();
  CHORUS_DISPATCH_FLOAT(out.dtype(), T, [&] {
    const T* xp = x.data<T>();
    const T* wp = weights.defined() ? weights.data<T>() : nullptr;
    T* op = out.data<T>();
    parallel_for(0, m, rows_per_task(d), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T* src = xp + (slot[r] / k) * d;
        T* dst = op + r * d;
        if (wp == nullptr) {
          std::memcpy(dst, src, sizeof(T) * d);
        } else {
          const T w = wp[slot[r]];
          for (int64_t c = 0; c < d; ++c) dst[c] = w * src[c];
        }
      }
    });
  });
}

void moe_combine_rows(const Tensor& out, const Tensor& rows, const Tensor& slot_row,
                      const Tensor& weights) {
  const int64_t n = out.size(0), d = out.size(1), k = slot_row.size(1);
  const int64_t* sr = slot_row.data<int64_t>();
  CHORUS_DISPATCH_FLOAT(out.dtype(), T, [&] {
    const T* rp = rows.data<T>();
    const T* wp = weights.defined() ? weights.data<T>() : nullptr;
    T* op = out.data<T>();
    parallel_for(0, n, rows_per_task(d * k), [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        T* dst = op + t * d;
        bool first = true;
        for (int64_t j = 0; j < k; ++j) {
          const int64_t r = sr[t * k + j];
          if (r < 0) continue;
          const T* src = rp + r * d;
          const T w = wp == nullptr ? T(1) : wp[t * k + j];
          // The first term is stored rather than added to zero, so that an unweighted single
          // slot reproduces its row bit for bit (including the sign of zeros).
          if (first && wp == nullptr) {
            std::memcpy(dst, src, sizeof(T) * d);
          } else if (first) {
            for (int64_t c = 0; c < d; ++c) dst[c] = w * src[c];
          } else if (wp == nullptr) {
            for (int64_t c = 0; c < d; ++c) dst[c] += src[c];
          } else {
            for (int64_t c = 0; c < d; ++c) dst[c] += w * src[c];
          }
          first = false;
        }
        if (first) std::memset(dst, 0, sizeof(T) * d);
      }
    });
  });
}

void moe_combine_weight_grad(const Tensor& grad_w, const Tensor& grad_out, const Tensor& rows,
                             const Tensor& slot_row) {
  const int64_t n = grad_w.size(0), k = grad_w.size(1), d = grad_out.size(1);
  const int64_t* sr = slot_row.data<int64_t>();
  CHORUS_DISPATCH_FLOAT(grad_w.dtype(), T, [&] {
    const T* gp = grad_out.data<T>();
    const T* rp = rows.data<T>();
    T* gw = grad_w.data<T>();
    parallel_for(0, n, rows_per_task(d * k), [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        for (int64_t j = 0; j < k; ++j) {
          const int64_t r = sr[t * k + j];
          T acc = T(0);
          if (r >= 0) {
            const T* g = gp + t * d;
            const T* src = rp + r * d;
            for (int64_t c = 0; c < d; ++c) acc += g[c] * src[c];
          }
          gw[t * k + j] = acc;
        }
      }
    });
  });
}

}  // namespace chorus::cpu
