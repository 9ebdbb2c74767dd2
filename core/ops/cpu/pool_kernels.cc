#include "core/ops/cpu/pool_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/tensor/dispatch.h"
#include "core/tensor/parallel.h"

namespace chorus::cpu {
namespace {

// Runs body(p) for every plane p, planes spread over the pool.
template <class Body>
void for_each_plane(const PoolGeometry& g, int64_t work_per_plane, Body body) {
  const int64_t grain =
      std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(work_per_plane, 1));
  parallel_for(0, g.planes, grain, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) body(p);
  });
}

// An input window [y0, y1) × [x0, x1) and what its sum is divided by.
struct Window {
  int64_t y0, y1, x0, x1;
  int64_t divisor;
};

Window avg_window(const PoolGeometry& g, int64_t oy, int64_t ox, bool count_include_pad) {
  Window w;
  w.y0 = oy * g.stride_h - g.pad_h;
  w.x0 = ox * g.stride_w - g.pad_w;
  w.y1 = std::min(w.y0 + g.kernel_h, g.height + g.pad_h);
  w.x1 = std::min(w.x0 + g.kernel_w, g.width + g.pad_w);
  const int64_t padded = (w.y1 - w.y0) * (w.x1 - w.x0);
  w.y0 = std::max<int64_t>(w.y0, 0);
  w.x0 = std::max<int64_t>(w.x0, 0);
  w.y1 = std::min(w.y1, g.height);
  w.x1 = std::min(w.x1, g.width);
  w.divisor = count_include_pad ? padded : (w.y1 - w.y0) * (w.x1 - w.x0);
  return w;
}

Window adaptive_window(const PoolGeometry& g, int64_t oy, int64_t ox) {
  Window w;
  w.y0 = oy * g.height / g.out_h;
  w.y1 = ((oy + 1) * g.height + g.out_h - 1) / g.out_h;
  w.x0 = ox * g.width / g.out_w;
  w.x1 = ((ox + 1) * g.width + g.out_w - 1) / g.out_w;
  w.divisor = (w.y1 - w.y0) * (w.x1 - w.x0);
  return w;
}

template <class T>
void max_forward(const Tensor& out, const Tensor& indices, const Tensor& x, const PoolGeometry& g) {
  const T* px = x.data<T>();
  T* po = out.data<T>();
  int64_t* pi = indices.data<int64_t>();
  const int64_t in_plane = g.height * g.width, out_plane = g.out_h * g.out_w;
  for_each_plane(g, out_plane * g.kernel_h * g.kernel_w, [&](int64_t p) {
    const T* src = px + p * in_plane;
    for (int64_t oy = 0; oy < g.out_h; ++oy) {
      for (int64_t ox = 0; ox < g.out_w; ++ox) {
        const int64_t y0 = oy * g.stride_h - g.pad_h, x0 = ox * g.stride_w - g.pad_w;
        T best = -std::numeric_limits<T>::infinity();
        int64_t best_index = -1;
        for (int64_t ki = 0; ki < g.kernel_h; ++ki) {
          const int64_t iy = y0 + ki * g.dilation_h;
          if (iy < 0 || iy >= g.height) continue;
          for (int64_t kj = 0; kj < g.kernel_w; ++kj) {
            const int64_t ix = x0 + kj * g.dilation_w;
            if (ix < 0 || ix >= g.width) continue;
            const T v = src[iy * g.width + ix];
            if (best_index < 0 || v > best || std::isnan(v)) {
              best = v;
              best_index = iy * g.width + ix;
            }
          }
        }
        po[p * out_plane + oy * g.out_w + ox] = best;
        pi[p * out_plane + oy * g.out_w + ox] = best_index;
      }
    }
  });
}

template <class T>
void max_backward(const Tensor& gx, const Tensor& gout, const Tensor& indices,
                  const PoolGeometry& g) {
  const T* pg = gout.data<T>();
  const int64_t* pi = indices.data<int64_t>();
  T* px = gx.data<T>();
  std::memset(px, 0, gx.nbytes());
  const int64_t in_plane = g.height * g.width, out_plane = g.out_h * g.out_w;
  for_each_plane(g, out_plane, [&](int64_t p) {
    for (int64_t o = 0; o < out_plane; ++o) {
      const int64_t idx = pi[p * out_plane + o];
      if (idx >= 0) px[p * in_plane + idx] += pg[p * out_plane + o];
    }
  });
}

// Shared by average and adaptive pooling: out = window sum / divisor, and its adjoint.
template <class T, class WindowOf>
void mean_forward(const Tensor& out, const Tensor& x, const PoolGeometry& g, int64_t work,
                  WindowOf window_of) {
  const T* px = x.data<T>();
  T* po = out.data<T>();
  const int64_t in_plane = g.height * g.width, out_plane = g.out_h * g.out_w;
  for_each_plane(g, out_plane * work, [&](int64_t p) {
    const T* src = px + p * in_plane;
    for (int64_t oy = 0; oy < g.out_h; ++oy) {
      for (int64_t ox = 0; ox < g.out_w; ++ox) {
        const Window w = window_of(oy, ox);
        T s = 0;
        for (int64_t y = w.y0; y < w.y1; ++y)
          for (int64_t xx = w.x0; xx < w.x1; ++xx) s += src[y * g.width + xx];
        po[p * out_plane + oy * g.out_w + ox] = w.divisor > 0 ? s / T(w.divisor) : T(0);
      }
    }
  });
}

template <class T, class WindowOf>
void mean_backward(const Tensor& gx, const Tensor& gout, const PoolGeometry& g, int64_t work,
                   WindowOf window_of) {
  const T* pg = gout.data<T>();
  T* px = gx.data<T>();
  std::memset(px, 0, gx.nbytes());
  const int64_t in_plane = g.height * g.width, out_plane = g.out_h * g.out_w;
  for_each_plane(g, out_plane * work, [&](int64_t p) {
    T* dst = px + p * in_plane;
    for (int64_t oy = 0; oy < g.out_h; ++oy) {
      for (int64_t ox = 0; ox < g.out_w; ++ox) {
        const Window w = window_of(oy, ox);
        if (w.divisor <= 0) continue;
        const T share = pg[p * out_plane + oy * g.out_w + ox] / T(w.divisor);
        for (int64_t y = w.y0; y < w.y1; ++y)
          for (int64_t xx = w.x0; xx < w.x1; ++xx) dst[y * g.width + xx] += share;
      }
    }
  });
}

// Typical cost of one adaptive window, for the parallel grain.
int64_t adaptive_work(const PoolGeometry& g) {
  return (g.height / std::max<int64_t>(g.out_h, 1) + 1) *
         (g.width / std::max<int64_t>(g.out_w, 1) + 1);
}

}  // namespace

void max_pool2d_forward(const Tensor& out, const Tensor& indices, const Tensor& x,
                        const PoolGeometry& g) {
  CHORUS_DISPATCH_FLOAT(x.dtype(), T, [&] { max_forward<T>(out, indices, x, g); });
}

void max_pool2d_backward(const Tensor& grad_x, const Tensor& grad_out, const Tensor& indices,
                         const PoolGeometry& g) {
  CHORUS_DISPATCH_FLOAT(grad_x.dtype(), T, [&] { max_backward<T>(grad_x, grad_out, indices, g); });
}

void avg_pool2d_forward(const Tensor& out, const Tensor& x, const PoolGeometry& g,
                        bool count_include_pad) {
  CHORUS_DISPATCH_FLOAT(x.dtype(), T, [&] {
    mean_forward<T>(out, x, g, g.kernel_h * g.kernel_w, [&](int64_t oy, int64_t ox) {
      return avg_window(g, oy, ox, count_include_pad);
    });
  });
}

void avg_pool2d_backward(const Tensor& grad_x, const Tensor& grad_out, const PoolGeometry& g,
                         bool count_include_pad) {
  CHORUS_DISPATCH_FLOAT(grad_x.dtype(), T, [&] {
    mean_backward<T>(grad_x, grad_out, g, g.kernel_h * g.kernel_w, [&](int64_t oy, int64_t ox) {
      return avg_window(g, oy, ox, count_include_pad);
    });
  });
}

void adaptive_avg_pool2d_forward(const Tensor& out, const Tensor& x, const PoolGeometry& g) {
  CHORUS_DISPATCH_FLOAT(x.dtype(), T, [&] {
    mean_forward<T>(out, x, g, adaptive_work(g),
                    [&](int64_t oy, int64_t ox) { return adaptive_window(g, oy, ox); });
  });
}

void adaptive_avg_pool2d_backward(const Tensor& grad_x, const Tensor& grad_out,
                                  const PoolGeometry& g) {
  CHORUS_DISPATCH_FLOAT(grad_x.dtype(), T, [&] {
    mean_backward<T>(grad_x, grad_out, g, adaptive_work(g),
                     [&](int64_t oy, int64_t ox) { return adaptive_window(g, oy, ox); });
  });
}

}  // namespace chorus::cpu
