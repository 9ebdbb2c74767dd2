#include "core/ops/cpu/softmax_kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/ops/cpu/row_grain.h"
#include "core/ops/cpu/row_io.h"
#include "core/ops/cpu/row_ops.h"
#include "core/tensor/dispatch.h"
#include "core/tensor/parallel.h"

namespace chorus::cpu {
namespace {

using simd::exp;
using simd::for_each_vec;
using simd::hsum;
using simd::kLanes;
using simd::load;
using simd::load_n;
using simd::load_partial;
using simd::splat;
using simd::store;
using simd::store_n;
using simd::Vec;
using simd::vmax;

// Below this many elements per task, threading costs more than it saves.

// ---------------------------------------------------------------- rows (softmax over the last dim)

template <bool kLog, class T>
CHORUS_SIMD_INLINE void softmax_row(const T* x, T* y, int64_t n) {
  constexpr int64_t L = kLanes<T>;
  const T m = row_max(x, n);
  int64_t j = 0;
  if constexpr (!kLog) {
    const Vec<T> inv = splat(T(1) / row_exp_sum<true>(x, y, n, m));
    for (; j + L <= n; j += L) store(y + j, load(y + j) * inv);
    for (; j < n; ++j) y[j] *= inv[0];
  } else {
    const Vec<T> c = splat(m + std::log(row_exp_sum<false, T>(x, nullptr, n, m)));
    for (; j + L <= n; j += L) store(y + j, load(x + j) - c);
    for (; j < n; ++j) y[j] = x[j] - c[0];
  }
}

template <bool kLog, class T>
CHORUS_SIMD_INLINE void softmax_backward_row(const T* g, const T* y, T* gx, int64_t n) {
  constexpr int64_t L = kLanes<T>;
  Vec<T> a0{}, a1{};
  int64_t j = 0;
  // softmax needs Σ g·y, log_softmax needs Σ g.
  for (; j + 2 * L <= n; j += 2 * L) {
    if constexpr (kLog) {
      a0 += load(g + j);
      a1 += load(g + j + L);
    } else {
      a0 += load(g + j) * load(y + j);
      a1 += load(g + j + L) * load(y + j + L);
    }
  }
  T tail = 0;
  for (; j < n; ++j) tail += kLog ? g[j] : g[j] * y[j];
  const T dot = hsum(a0 + a1) + tail;
  const Vec<T> dv = splat(dot);
  j = 0;
  if constexpr (kLog) {
    for (; j + L <= n; j += L) store(gx + j, load(g + j) - exp(load(y + j)) * dv);
    if (j < n) {
      const Vec<T> e = exp(load_partial(y + j, n - j, T(0)));
      for (int64_t k = 0; j + k < n; ++k) gx[j + k] = g[j + k] - e[k] * dot;
    }
  } else {
    for (; j + L <= n; j += L) store(gx + j, load(y + j) * (load(g + j) - dv));
    for (; j < n; ++j) gx[j] = y[j] * (g[j] - dot);
  }
}

// ---------------------------------------------------------------- columns (any other dim)
// A block of up to kColumnBlock columns walks down the n rows (stride `inner`), keeping its running
// statistics in small arrays: every row access reads a contiguous run of the block, which
// uses whole cache lines and avoids the cache-set conflicts of a power-of-two stride.

constexpr int64_t kColumnBlock = 256;

template <bool kLog, class T>
CHORUS_SIMD_INLINE void softmax_cols(const T* x, T* y, int64_t n, int64_t inner, int64_t b) {
  alignas(64) T m[kColumnBlock], s[kColumnBlock];
  for (int64_t j = 0; j < b; ++j) m[j] = kNegInf<T>, s[j] = T(0);
  for (int64_t k = 0; k < n; ++k) {
    const T* xk = x + k * inner;
    for_each_vec<T>(b, [&]<bool kFull>(int64_t j, int64_t w) CHORUS_SIMD_LAMBDA {
      store_n<kFull>(m + j, vmax(load_n<kFull>(m + j, w), load_n<kFull>(xk + j, w)), w);
    });
  }
  for (int64_t k = 0; k < n; ++k) {
    const T* xk = x + k * inner;
    T* yk = y + k * inner;
    for_each_vec<T>(b, [&]<bool kFull>(int64_t j, int64_t w) CHORUS_SIMD_LAMBDA {
      const Vec<T> e = exp(load_n<kFull>(xk + j, w) - load_n<kFull>(m + j, w));
      if constexpr (!kLog) store_n<kFull>(yk + j, e, w);
      store_n<kFull>(s + j, load_n<kFull>(s + j, w) + e, w);
    });
  }
  // softmax: y = e / s; log_softmax: y = x - (m + log s).
  for (int64_t j = 0; j < b; ++j) s[j] = kLog ? m[j] + std::log(s[j]) : T(1) / s[j];
  for (int64_t k = 0; k < n; ++k) {
    const T* xk = x + k * inner;
    T* yk = y + k * inner;
    for_each_vec<T>(b, [&]<bool kFull>(int64_t j, int64_t w) CHORUS_SIMD_LAMBDA {
      if constexpr (kLog) {
        store_n<kFull>(yk + j, load_n<kFull>(xk + j, w) - load_n<kFull>(s + j, w), w);
      } else {
        store_n<kFull>(yk + j, load_n<kFull>(yk + j, w) * load_n<kFull>(s + j, w), w);
      }
    });
  }
}

template <bool kLog, class T>
CHORUS_SIMD_INLINE void softmax_backward_cols(const T* g, const T* y, T* gx, int64_t n,
                                              int64_t inner, int64_t b) {
  alignas(64) T a[kColumnBlock];
  for (int64_t j = 0; j < b; ++j) a[j] = T(0);
  for (int64_t k = 0; k < n; ++k) {
    const T *gk = g + k * inner, *yk = y + k * inner;
    for_each_vec<T>(b, [&]<bool kFull>(int64_t j, int64_t w) CHORUS_SIMD_LAMBDA {
      Vec<T> v = load_n<kFull>(gk + j, w);
      if constexpr (!kLog) v *= load_n<kFull>(yk + j, w);
      store_n<kFull>(a + j, load_n<kFull>(a + j, w) + v, w);
    });
  }
  for (int64_t k = 0; k < n; ++k) {
    const T *gk = g + k * inner, *yk = y + k * inner;
    T* out = gx + k * inner;
    for_each_vec<T>(b, [&]<bool kFull>(int64_t j, int64_t w) CHORUS_SIMD_LAMBDA {
      const Vec<T> gv = load_n<kFull>(gk + j, w), yv = load_n<kFull>(yk + j, w),
                   av = load_n<kFull>(a + j, w);
      if constexpr (kLog) {
        store_n<kFull>(out + j, gv - exp(yv) * av, w);
      } else {
        store_n<kFull>(out + j, yv * (gv - av), w);
      }
    });
  }
}

// ---------------------------------------------------------------- cloned entry points

// A task is one row (inner == 1) or one block of columns of one outer index; column task t
// covers outer index t / blocks and columns [c, c + kColumnBlock) of it.
inline int64_t task_count(int64_t outer, int64_t inner) {
  return inner == 1 ? outer : outer * ((inner + kColumnBlock - 1) / kColumnBlock);
}

template <bool kLog, class T>
CHORUS_SIMD_INLINE void forward_range(const T* x, T* y, int64_t t0, int64_t t1, int64_t n,
                                      int64_t inner) {
  if (inner == 1) {
    for (int64_t r = t0; r < t1; ++r) softmax_row<kLog>(x + r * n, y + r * n, n);
    return;
  }
  const int64_t blocks = (inner + kColumnBlock - 1) / kColumnBlock;
  for (int64_t t = t0; t < t1; ++t) {
    const int64_t c = (t % blocks) * kColumnBlock, off = (t / blocks) * n * inner + c;
    softmax_cols<kLog>(x + off, y + off, n, inner, std::min(kColumnBlock, inner - c));
  }
}

template <bool kLog, class T>
CHORUS_SIMD_INLINE void backward_range(const T* g, const T* y, T* gx, int64_t t0, int64_t t1,
                                       int64_t n, int64_t inner) {
  if (inner == 1) {
    for (int64_t r = t0; r < t1; ++r)
      softmax_backward_row<kLog>(g + r * n, y + r * n, gx + r * n, n);
    return;
  }
  const int64_t blocks = (inner + kColumnBlock - 1) / kColumnBlock;
  for (int64_t t = t0; t < t1; ++t) {
    const int64_t c = (t % blocks) * kColumnBlock, off = (t / blocks) * n * inner + c;
    softmax_backward_cols<kLog>(g + off, y + off, gx + off, n, inner,
                                std::min(kColumnBlock, inner - c));
  }
}

CHORUS_SIMD_CLONES void forward_tasks(const float* x, float* y, int64_t t0, int64_t t1, int64_t n,
                                      int64_t inner, bool log) {
  log ? forward_range<true>(x, y, t0, t1, n, inner) : forward_range<false>(x, y, t0, t1, n, inner);
}
CHORUS_SIMD_CLONES void forward_tasks(const double* x, double* y, int64_t t0, int64_t t1, int64_t n,
                                      int64_t inner, bool log) {
  log ? forward_range<true>(x, y, t0, t1, n, inner) : forward_range<false>(x, y, t0, t1, n, inner);
}
CHORUS_SIMD_CLONES void backward_tasks(const float* g, const float* y, float* gx, int64_t t0,
                                       int64_t t1, int64_t n, int64_t inner, bool log) {
  log ? backward_range<true>(g, y, gx, t0, t1, n, inner)
      : backward_range<false>(g, y, gx, t0, t1, n, inner);
}
CHORUS_SIMD_CLONES void backward_tasks(const double* g, const double* y, double* gx, int64_t t0,
                                       int64_t t1, int64_t n, int64_t inner, bool log) {
  log ? backward_range<true>(g, y, gx, t0, t1, n, inner)
      : backward_range<false>(g, y, gx, t0, t1, n, inner);
}

// Tasks per chunk so that a chunk holds about kRowGrain elements.
inline int64_t task_grain(int64_t n, int64_t inner) {
  const int64_t per_task = inner == 1 ? n : n * std::min(inner, kColumnBlock);
  return std::max<int64_t>(1, kRowGrain / std::max<int64_t>(per_task, 1));
}

}  // namespace

void softmax_forward(const Tensor& y, const Tensor& x, int64_t outer, int64_t n, int64_t inner,
                     bool log) {
  if (outer * n * inner == 0) return;
  if (x.dtype() == DType::kBF16) {
    CHORUS_CHECK(inner == 1 && y.dtype() == DType::kBF16, "softmax kernel: bf16 only by rows");
    parallel_for(0, outer, task_grain(n, 1), [&](int64_t r0, int64_t r1) {
      RowIn<float> in(x, n);
      RowOut<float> out(y, n);
      for (int64_t r = r0; r < r1; ++r) {
        forward_tasks(in(r), out.begin(r), 0, 1, n, 1, log);
        out.end(r);
      }
    });
    return;
  }
  CHORUS_DISPATCH_FLOAT(x.dtype(), T, [&] {
    const T* px = x.data<T>();
    T* py = y.data<T>();
    parallel_for(0, task_count(outer, inner), task_grain(n, inner),
                 [&](int64_t t0, int64_t t1) { forward_tasks(px, py, t0, t1, n, inner, log); });
  });
}

void softmax_backward(const Tensor& gx, const Tensor& g, const Tensor& y, int64_t outer, int64_t n,
                      int64_t inner, bool log) {
  if (outer * n * inner == 0) return;
  if (y.dtype() == DType::kBF16) {
    CHORUS_CHECK(inner == 1 && g.dtype() == DType::kBF16 && gx.dtype() == DType::kBF16,
                 "softmax kernel: bf16 only by rows");
    parallel_for(0, outer, task_grain(n, 1), [&](int64_t r0, int64_t r1) {
      RowIn<float> in_g(g, n), in_y(y, n);
      RowOut<float> out(gx, n);
      for (int64_t r = r0; r < r1; ++r) {
        backward_tasks(in_g(r), in_y(r), out.begin(r), 0, 1, n, 1, log);
        out.end(r);
      }
    });
    return;
  }
  CHORUS_DISPATCH_FLOAT(y.dtype(), T, [&] {
    const T* pg = g.data<T>();
    const T* py = y.data<T>();
    T* pgx = gx.data<T>();
    parallel_for(0, task_count(outer, inner), task_grain(n, inner), [&](int64_t t0, int64_t t1) {
      backward_tasks(pg, py, pgx, t0, t1, n, inner, log);
    });
  });
}

}  // namespace chorus::cpu
