// Layer norm and RMS norm share one row kernel: RMS norm is layer norm with the mean fixed at
// zero and no mean term in the backward formula (kRms).
#include "core/ops/cpu/normalization_kernels.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/ops/cpu/row_grain.h"
#include "core/ops/cpu/row_io.h"
#include "core/ops/cpu/row_ops.h"
#include "core/tensor/dispatch.h"
#include "core/tensor/parallel.h"

namespace chorus::cpu {
namespace {

using simd::for_each_vec;
using simd::hsum;
using simd::kLanes;
using simd::load_n;
using simd::splat;
using simd::store_n;
using simd::Vec;

template <bool kRms, class T>
CHORUS_SIMD_INLINE void forward_row(const T* x, T* y, const T* w, const T* b, int64_t d, T eps,
                                    T* mean_out, T* rstd_out) {
  // Two passes for the statistics (mean, then Σ(x - mean)²) avoid the cancellation of
  // E[x²] - E[x]²; the row is cache-resident after the first, so the second costs little.
  const T mean = kRms ? T(0) : static_cast<T>(row_moment<false>(x, d, T(0)) / d);
  const T var = static_cast<T>(row_moment<true>(x, d, mean) / d);
  const T rstd = T(1) / std::sqrt(var + eps);
  if (mean_out) *mean_out = mean;
  *rstd_out = rstd;
  const Vec<T> mv = splat(mean), rv = splat(rstd);
  for_each_vec<T>(d, [&]<bool kFull>(int64_t j, int64_t n) CHORUS_SIMD_LAMBDA {
    Vec<T> h = (load_n<kFull>(x + j, n) - mv) * rv;
    if (w) h *= load_n<kFull>(w + j, n);
    if (b) h += load_n<kFull>(b + j, n);
    store_n<kFull>(y + j, h, n);
  });
}

// Accumulates g·x̂ into gw and g into gb (per-thread partial sums, may be null) and writes gx
// (may be null). Tail lanes load zeros for g, so they add nothing.
template <bool kRms, class T>
CHORUS_SIMD_INLINE void backward_row(const T* g, const T* x, const T* w, T mean, T rstd, int64_t d,
                                     T* gx, T* gw, T* gb) {
  const Vec<T> mv = splat(mean), rv = splat(rstd);
  Vec<T> a{}, c{};
  for_each_vec<T>(d, [&]<bool kFull>(int64_t j, int64_t n) CHORUS_SIMD_LAMBDA {
    const Vec<T> gj = load_n<kFull>(g + j, n);
    const Vec<T> xh = (load_n<kFull>(x + j, n) - mv) * rv;
    const Vec<T> gh = w ? gj * load_n<kFull>(w + j, n) : gj;
    a += gh;
    c += gh * xh;
    if (gw) store_n<kFull>(gw + j, load_n<kFull>(gw + j, n) + gj * xh, n);
    if (gb) store_n<kFull>(gb + j, load_n<kFull>(gb + j, n) + gj, n);
  });
  if (!gx) return;
  const T inv_d = T(1) / static_cast<T>(d);
  const Vec<T> av = splat(kRms ? T(0) : hsum(a) * inv_d), cv = splat(hsum(c) * inv_d);
  for_each_vec<T>(d, [&]<bool kFull>(int64_t j, int64_t n) CHORUS_SIMD_LAMBDA {
    const Vec<T> gj = load_n<kFull>(g + j, n);
    const Vec<T> xh = (load_n<kFull>(x + j, n) - mv) * rv;
    const Vec<T> gh = w ? gj * load_n<kFull>(w + j, n) : gj;
    store_n<kFull>(gx + j, rv * (gh - av - xh * cv), n);
  });
}

template <class T>
struct Rows {
  const T* x;
  const T* w;  // null: no weight
  const T* b;  // null: no bias (always null for RMS)
  T* mean;     // null for RMS
  T* rstd;
  int64_t d;
};

template <bool kRms, class T>
CHORUS_SIMD_INLINE void forward_range(const Rows<T>& a, T* y, int64_t r0, int64_t r1, T eps) {
  for (int64_t r = r0; r < r1; ++r) {
    forward_row<kRms>(a.x + r * a.d, y + r * a.d, a.w, a.b, a.d, eps, a.mean ? a.mean + r : nullptr,
                      a.rstd + r);
  }
}

template <bool kRms, class T>
CHORUS_SIMD_INLINE void backward_range(const Rows<T>& a, const T* g, int64_t r0, int64_t r1, T* gx,
                                       T* gw, T* gb) {
  for (int64_t r = r0; r < r1; ++r) {
    backward_row<kRms>(g + r * a.d, a.x + r * a.d, a.w, a.mean ? a.mean[r] : T(0), a.rstd[r], a.d,
                       gx ? gx + r * a.d : nullptr, gw, gb);
  }
}

CHORUS_SIMD_CLONES void forward_rows(bool rms, const Rows<float>& a, float* y, int64_t r0,
                                     int64_t r1, float eps) {
  rms ? forward_range<true>(a, y, r0, r1, eps) : forward_range<false>(a, y, r0, r1, eps);
}
CHORUS_SIMD_CLONES void forward_rows(bool rms, const Rows<double>& a, double* y, int64_t r0,
                                     int64_t r1, double eps) {
  rms ? forward_range<true>(a, y, r0, r1, eps) : forward_range<false>(a, y, r0, r1, eps);
}
CHORUS_SIMD_CLONES void backward_rows(bool rms, const Rows<float>& a, const float* g, int64_t r0,
                                      int64_t r1, float* gx, float* gw, float* gb) {
  rms ? backward_range<true>(a, g, r0, r1, gx, gw, gb)
      : backward_range<false>(a, g, r0, r1, gx, gw, gb);
}
CHORUS_SIMD_CLONES void backward_rows(bool rms, const Rows<double>& a, const double* g, int64_t r0,
                                      int64_t r1, double* gx, double* gw, double* gb) {
  rms ? backward_range<true>(a, g, r0, r1, gx, gw, gb)
      : backward_range<false>(a, g, r0, r1, gx, gw, gb);
}

template <class T>
const T* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

// x, y (and g, gx in backward) may be bf16 (with T = float): their rows are then staged
// through f32 scratch rows (row_io.h) and the kernel runs one row at a time.
void forward(bool rms, const Tensor& y, const Tensor& mean, const Tensor& rstd, const Tensor& x,
             const Tensor& weight, const Tensor& bias, double eps) {
  const int64_t rows = x.shape()[0], d = x.shape()[1];
  if (rows == 0) return;
  dispatch_rows(x.dtype(), [&]<class T>() {
    const Rows<T> a{x.dtype() == DType::kBF16 ? nullptr : x.data<T>(),
                    ptr_or_null<T>(weight),
                    ptr_or_null<T>(bias),
                    mean.defined() ? mean.data<T>() : nullptr,
                    rstd.data<T>(),
                    d};
    const T e = static_cast<T>(eps);
    parallel_for(0, rows, rows_per_task(d, kRowGrain), [&](int64_t r0, int64_t r1) {
      if (a.x) return forward_rows(rms, a, y.data<T>(), r0, r1, e);
      RowIn<T> in(x, d);
      RowOut<T> out(y, d);
      for (int64_t r = r0; r < r1; ++r) {
        const Rows<T> row{in(r), a.w, a.b, a.mean ? a.mean + r : nullptr, a.rstd + r, d};
        forward_rows(rms, row, out.begin(r), 0, 1, e);
        out.end(r);
      }
    });
  });
}

// gweight/gbias are column sums over all rows: each chunk of rows accumulates into its own
// partial buffers (no atomics, deterministic for a given thread count), summed at the end.
void backward(bool rms, const Tensor& gx, const Tensor& gweight, const Tensor& gbias,
              const Tensor& g, const Tensor& x, const Tensor& mean, const Tensor& rstd,
              const Tensor& weight) {
  const int64_t rows = x.shape()[0], d = x.shape()[1];
  dispatch_rows(x.dtype(), [&]<class T>() {
    const bool staged = x.dtype() == DType::kBF16;
    const Rows<T> a{staged ? nullptr : x.data<T>(),
                    ptr_or_null<T>(weight),
                    nullptr,
                    mean.defined() ? mean.data<T>() : nullptr,
                    rstd.data<T>(),
                    d};
    // Rows [r0, r1), accumulating parameter gradients into pw/pb (may be null).
    auto run = [&](int64_t r0, int64_t r1, T* pw, T* pb) {
      if (!staged) {
        return backward_rows(rms, a, g.data<T>(), r0, r1, gx.defined() ? gx.data<T>() : nullptr, pw,
                             pb);
      }
      RowIn<T> in_g(g, d), in_x(x, d);
      RowOut<T> out(gx.defined() ? gx : g, d);  // g only stands in when gx is not wanted
      for (int64_t r = r0; r < r1; ++r) {
        const Rows<T> row{in_x(r), a.w, nullptr, a.mean ? a.mean + r : nullptr, a.rstd + r, d};
        backward_rows(rms, row, in_g(r), 0, 1, gx.defined() ? out.begin(r) : nullptr, pw, pb);
        if (gx.defined()) out.end(r);
      }
    };
    const bool need_w = gweight.defined(), need_b = gbias.defined();
    if (!need_w && !need_b) {
      parallel_for(0, rows, rows_per_task(d, kRowGrain),
                   [&](int64_t r0, int64_t r1) { run(r0, r1, nullptr, nullptr); });
      return;
    }
    const int64_t chunks = std::clamp<int64_t>(rows * d / kRowGrain, 1, num_threads());
    std::vector<T> partial(static_cast<size_t>(chunks * d * 2), T(0));
    parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        run(rows * c / chunks, rows * (c + 1) / chunks, need_w ? partial.data() + c * d : nullptr,
            need_b ? partial.data() + (chunks + c) * d : nullptr);
      }
    });
    for (int k = 0; k < 2; ++k) {
      const Tensor& out = k == 0 ? gweight : gbias;
      if (!out.defined()) continue;
      T* po = out.data<T>();
      for (int64_t j = 0; j < d; ++j) {
        T s = 0;
        for (int64_t c = 0; c < chunks; ++c) s += partial[(k * chunks + c) * d + j];
        po[j] = s;
      }
    }
  });
}

}  // namespace

void layer_norm_forward(const Tensor& y, const Tensor& mean, const Tensor& rstd, const Tensor& x,
                        const Tensor& weight, const Tensor& bias, double eps) {
  forward(false, y, mean, rstd, x, weight, bias, eps);
}

void layer_norm_backward(const Tensor& gx, const Tensor& gweight, const Tensor& gbias,
                         const Tensor& g, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                         const Tensor& weight) {
  backward(false, gx, gweight, gbias, g, x, mean, rstd, weight);
}

void rms_norm_forward(const Tensor& y, const Tensor& rstd, const Tensor& x, const Tensor& weight,
                      double eps) {
  forward(true, y, Tensor(), rstd, x, weight, Tensor(), eps);
}

void rms_norm_backward(const Tensor& gx, const Tensor& gweight, const Tensor& g, const Tensor& x,
                       const Tensor& rstd, const Tensor& weight) {
  backward(true, gx, gweight, Tensor(), g, x, Tensor(), rstd, weight);
}

}  // namespace chorus::cpu
