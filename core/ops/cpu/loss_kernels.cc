#include "core/ops/cpu/loss_kernels.h"

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
using simd::hmax;
using simd::hsum;
using simd::load_n;
using simd::splat;
using simd::store_n;
using simd::Vec;
using simd::vmax;

struct Problem {
  int64_t n, c, ignore_index;
  const int64_t* targets;
};

template <class T>
CHORUS_SIMD_INLINE void forward_range(const Problem& pb, const T* x, T* loss, T* lse, T eps,
                                      int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t t = pb.targets[r];
    if (t == pb.ignore_index) {
      loss[r] = lse[r] = T(0);
      continue;
    }
    if (t < 0 || t >= pb.c) {  // unchecked device targets (loss.h): a NaN loss, no bad read
      loss[r] = lse[r] = std::numeric_limits<T>::quiet_NaN();
      continue;
    }
    const T* row = x + r * pb.c;
    T m, mean = 0;
    if (eps != T(0)) {
      // Smoothing needs Σ x as well: gather it in the max pass.
      constexpr int64_t L = simd::kLanes<T>;
      Vec<T> mv = splat(kNegInf<T>), sv{};
      int64_t j = 0;
      for (; j + L <= pb.c; j += L) {
        const Vec<T> v = simd::load(row + j);
        mv = vmax(mv, v);
        sv += v;
      }
      if (j < pb.c) {
        mv = vmax(mv, simd::load_partial(row + j, pb.c - j, kNegInf<T>));
        sv += simd::load_partial(row + j, pb.c - j, T(0));
      }
      m = hmax(mv);
      mean = hsum(sv) / static_cast<T>(pb.c);
    } else {
      m = row_max(row, pb.c);
    }
    const T l = m + std::log(row_exp_sum<false, T>(row, nullptr, pb.c, m));
    lse[r] = l;
    loss[r] = l - (T(1) - eps) * row[t] - eps * mean;
  }
}

template <class T>
CHORUS_SIMD_INLINE void backward_range(const Problem& pb, const T* x, const T* lse, T* gx,
                                       const T* grad, bool per_row, T factor, T eps, int64_t r0,
                                       int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    T* out = gx + r * pb.c;
    const int64_t t = pb.targets[r];
    if (t == pb.ignore_index) {
      std::fill(out, out + pb.c, T(0));
      continue;
    }
    const T* row = x + r * pb.c;
    const T s = (per_row ? grad[r] : grad[0]) * factor;
    const Vec<T> lv = splat(lse[r]), sv = splat(s), off = splat(s * eps / static_cast<T>(pb.c));
    for_each_vec<T>(pb.c, [&]<bool kFull>(int64_t j, int64_t w) CHORUS_SIMD_LAMBDA {
      store_n<kFull>(out + j, exp(load_n<kFull>(row + j, w) - lv) * sv - off, w);
    });
    if (t >= 0 && t < pb.c) out[t] -= s * (T(1) - eps);
  }
}

CHORUS_SIMD_CLONES void forward_rows(const Problem& pb, const float* x, float* loss, float* lse,
                                     float eps, int64_t r0, int64_t r1) {
  forward_range(pb, x, loss, lse, eps, r0, r1);
}
CHORUS_SIMD_CLONES void forward_rows(const Problem& pb, const double* x, double* loss, double* lse,
                                     double eps, int64_t r0, int64_t r1) {
  forward_range(pb, x, loss, lse, eps, r0, r1);
}
CHORUS_SIMD_CLONES void backward_rows(const Problem& pb, const float* x, const float* lse,
                                      float* gx, const float* grad, bool per_row, float factor,
                                      float eps, int64_t r0, int64_t r1) {
  backward_range(pb, x, lse, gx, grad, per_row, factor, eps, r0, r1);
}
CHORUS_SIMD_CLONES void backward_rows(const Problem& pb, const double* x, const double* lse,
                                      double* gx, const double* grad, bool per_row, double factor,
                                      double eps, int64_t r0, int64_t r1) {
  backward_range(pb, x, lse, gx, grad, per_row, factor, eps, r0, r1);
}

}  // namespace

// bf16 logits (and gradient) rows are staged through f32 scratch rows (row_io.h): the
// kernel then runs one row at a time on the scratch copy.
void cross_entropy_forward(const Tensor& loss, const Tensor& lse, const Tensor& logits,
                           const Tensor& targets, int64_t ignore_index, double smoothing) {
  const Problem pb{logits.shape()[0], logits.shape()[1], ignore_index, targets.data<int64_t>()};
  dispatch_rows(loss.dtype(), [&]<class T>() {
    T* pl = loss.data<T>();
    T* plse = lse.data<T>();
    const T eps = static_cast<T>(smoothing);
    parallel_for(0, pb.n, rows_per_task(pb.c, kRowGrain), [&](int64_t r0, int64_t r1) {
      if (logits.dtype() != DType::kBF16) {
        return forward_rows(pb, logits.data<T>(), pl, plse, eps, r0, r1);
      }
      RowIn<T> in(logits, pb.c);
      for (int64_t r = r0; r < r1; ++r) {
        const Problem row{1, pb.c, pb.ignore_index, pb.targets + r};
        const bool ignored = pb.targets[r] == pb.ignore_index;
        forward_rows(row, ignored ? nullptr : in(r), pl + r, plse + r, eps, 0, 1);
      }
    });
  });
}

void cross_entropy_backward(const Tensor& gx, const Tensor& grad, double factor,
                            const Tensor& logits, const Tensor& targets, const Tensor& lse,
                            int64_t ignore_index, double smoothing) {
  const Problem pb{logits.shape()[0], logits.shape()[1], ignore_index, targets.data<int64_t>()};
  const bool per_row = grad.numel() == pb.n;
  dispatch_rows(lse.dtype(), [&]<class T>() {
    const T* plse = lse.data<T>();
    const T* pg = grad.data<T>();
    const T f = static_cast<T>(factor), eps = static_cast<T>(smoothing);
    parallel_for(0, pb.n, rows_per_task(pb.c, kRowGrain), [&](int64_t r0, int64_t r1) {
      if (logits.dtype() != DType::kBF16) {
        return backward_rows(pb, logits.data<T>(), plse, gx.data<T>(), pg, per_row, f, eps, r0, r1);
      }
      RowIn<T> in(logits, pb.c);
      RowOut<T> out(gx, pb.c);
      for (int64_t r = r0; r < r1; ++r) {
        const Problem row{1, pb.c, pb.ignore_index, pb.targets + r};
        const bool ignored = pb.targets[r] == pb.ignore_index;
        backward_rows(row, ignored ? nullptr : in(r), plse + r, out.begin(r), per_row ? pg + r : pg,
                      /*per_row=*/false, f, eps, 0, 1);
        out.end(r);
      }
    });
  });
}

}  // namespace chorus::cpu
