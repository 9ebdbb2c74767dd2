// Max, average and adaptive-average pooling over contiguous [planes, H, W] f32/f64 buffers,
// with the exact arithmetic of cpu/pool_kernels.cc: the same window bounds and divisors, the
// window sum in row-major order, the max's tie and NaN rule. Backward kernels gather instead of
// scattering: each input element sums, in increasing output order, the shares of the outputs
// whose window holds it, which is the order in which the CPU adds them, so the gradients are
// bitwise equal and no atomics are needed. Flat indices are decomposed in 32-bit arithmetic when
// both the input and the output have fewer than 2^31 elements.
#include <cmath>

#include "core/ops/cuda/common.cuh"
#include "core/ops/cuda/pool_launch.h"

namespace chorus::cuda {
namespace {

// An input window [y0, y1) × [x0, x1) and its divisor (cpu/pool_kernels.cc's Window).
struct Window {
  int64_t y0, y1, x0, x1, divisor;
};

__device__ __forceinline__ Window avg_window(const PoolShape& g, int64_t oy, int64_t ox,
                                             bool count_include_pad) {
  Window w;
  w.y0 = oy * g.stride_h - g.pad_h;
  w.x0 = ox * g.stride_w - g.pad_w;
  w.y1 = min(w.y0 + g.kernel_h, g.height + g.pad_h);
  w.x1 = min(w.x0 + g.kernel_w, g.width + g.pad_w);
  const int64_t padded = (w.y1 - w.y0) * (w.x1 - w.x0);
  w.y0 = max(w.y0, int64_t{0});
  w.x0 = max(w.x0, int64_t{0});
  w.y1 = min(w.y1, g.height);
  w.x1 = min(w.x1, g.width);
  w.divisor = count_include_pad ? padded : (w.y1 - w.y0) * (w.x1 - w.x0);
  return w;
}

__device__ __forceinline__ Window adaptive_window(const PoolShape& g, int64_t oy, int64_t ox) {
  Window w;
  w.y0 = oy * g.height / g.out_h;
  w.y1 = ((oy + 1) * g.height + g.out_h - 1) / g.out_h;
  w.x0 = ox * g.width / g.out_w;
  w.x1 = ((ox + 1) * g.width + g.out_w - 1) / g.out_w;
  w.divisor = (w.y1 - w.y0) * (w.x1 - w.x0);
  return w;
}

__device__ __forceinline__ Window window_of(PoolKind kind, const PoolShape& g, int64_t oy,
                                            int64_t ox) {
  return kind == PoolKind::kAdaptive ? adaptive_window(g, oy, ox)
                                     : avg_window(g, oy, ox, kind == PoolKind::kAvgIncludePad);
}

// ceil(a / b) for b > 0 and any a, floor(a / b) for a >= 0.
__device__ __forceinline__ int64_t ceil_div(int64_t a, int64_t b) {
  return a <= 0 ? -((-a) / b) : (a + b - 1) / b;
}

// Outputs along one axis whose window can hold input position `i`: [lo, hi] (maybe empty).
struct Range {
  int64_t lo, hi;
};

// Strided windows starting at o·stride - pad and covering `span` positions (the dilated
// extent for max pooling, the kernel size for average pooling).
__device__ __forceinline__ Range strided_range(int64_t i, int64_t stride, int64_t pad, int64_t span,
                                               int64_t outs) {
  return {max(ceil_div(i + pad - span + 1, stride), int64_t{0}), min((i + pad) / stride, outs - 1)};
}

// Adaptive windows: [⌊o·n/outs⌋, ⌈(o+1)·n/outs⌉) holds i iff ⌊i·outs/n⌋ <= o < ⌈(i+1)·outs/n⌉.
__device__ __forceinline__ Range adaptive_range(int64_t i, int64_t n, int64_t outs) {
  return {i * outs / n, min(((i + 1) * outs + n - 1) / n - 1, outs - 1)};
}

// Grid-stride loop over `total` flat indices of index type I (uint32_t when it cannot wrap).
#define CHORUS_POOL_LOOP(I, i, total)                                            \
  for (I i = static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x; i < (total); \
       i += static_cast<I>(gridDim.x) * blockDim.x)

template <class T, class I>
__global__ void max_pool_forward(T* out, int64_t* indices, const T* x,
                                 const __grid_constant__ PoolShape g) {
  const I ow = static_cast<I>(g.out_w), oh = static_cast<I>(g.out_h);
  const I total = static_cast<I>(g.planes) * oh * ow;
  const int64_t in_plane = g.height * g.width;
  CHORUS_POOL_LOOP(I, i, total) {
    const I ox = i % ow, rest = i / ow;
    const I oy = rest % oh, p = rest / oh;
    const T* src = x + static_cast<int64_t>(p) * in_plane;
    const int64_t y0 = static_cast<int64_t>(oy) * g.stride_h - g.pad_h;
    const int64_t x0 = static_cast<int64_t>(ox) * g.stride_w - g.pad_w;
    T best = static_cast<T>(-INFINITY);
    int64_t best_index = -1;
    for (int64_t ki = 0; ki < g.kernel_h; ++ki) {
      const int64_t iy = y0 + ki * g.dilation_h;
      if (iy < 0 || iy >= g.height) continue;
      for (int64_t kj = 0; kj < g.kernel_w; ++kj) {
        const int64_t ix = x0 + kj * g.dilation_w;
        if (ix < 0 || ix >= g.width) continue;
        const T v = src[iy * g.width + ix];
        if (best_index < 0 || v > best || v != v) {  // v != v: NaN wins (the last one)
          best = v;
          best_index = iy * g.width + ix;
        }
      }
    }
    out[i] = best;
    indices[i] = best_index;
  }
}

template <class T, class I>
__global__ void max_pool_backward(T* grad_x, const T* grad_out, const int64_t* indices,
                                  const __grid_constant__ PoolShape g) {
  const I w = static_cast<I>(g.width), h = static_cast<I>(g.height);
  const I total = static_cast<I>(g.planes) * h * w;
  const int64_t out_plane = g.out_h * g.out_w;
  CHORUS_POOL_LOOP(I, i, total) {
    const I ix = i % w, rest = i / w;
    const I iy = rest % h, p = rest / h;
    const int64_t here = static_cast<int64_t>(iy) * g.width + ix;
    const int64_t base = static_cast<int64_t>(p) * out_plane;
    const Range ry =
        strided_range(iy, g.stride_h, g.pad_h, g.dilation_h * (g.kernel_h - 1) + 1, g.out_h);
    const Range rx =
        strided_range(ix, g.stride_w, g.pad_w, g.dilation_w * (g.kernel_w - 1) + 1, g.out_w);
    T acc = T(0);
    for (int64_t oy = ry.lo; oy <= ry.hi; ++oy) {
      for (int64_t ox = rx.lo; ox <= rx.hi; ++ox) {
        const int64_t o = base + oy * g.out_w + ox;
        if (indices[o] == here) acc += grad_out[o];
      }
    }
    grad_x[i] = acc;
  }
}

template <class T, class I>
__global__ void avg_pool_forward(T* out, const T* x, const __grid_constant__ PoolShape g,
                                 PoolKind kind) {
  const I ow = static_cast<I>(g.out_w), oh = static_cast<I>(g.out_h);
  const I total = static_cast<I>(g.planes) * oh * ow;
  const int64_t in_plane = g.height * g.width;
  CHORUS_POOL_LOOP(I, i, total) {
    const I ox = i % ow, rest = i / ow;
    const I oy = rest % oh, p = rest / oh;
    const T* src = x + static_cast<int64_t>(p) * in_plane;
    const Window win = window_of(kind, g, oy, ox);
    T s = T(0);
    for (int64_t y = win.y0; y < win.y1; ++y) {
      for (int64_t xx = win.x0; xx < win.x1; ++xx) s += src[y * g.width + xx];
    }
    out[i] = win.divisor > 0 ? s / static_cast<T>(win.divisor) : T(0);
  }
}

template <class T, class I>
__global__ void avg_pool_backward(T* grad_x, const T* grad_out, const __grid_constant__ PoolShape g,
                                  PoolKind kind) {
  const I w = static_cast<I>(g.width), h = static_cast<I>(g.height);
  const I total = static_cast<I>(g.planes) * h * w;
  const int64_t out_plane = g.out_h * g.out_w;
  CHORUS_POOL_LOOP(I, i, total) {
    const I ix = i % w, rest = i / w;
    const I iy = rest % h, p = rest / h;
    const int64_t base = static_cast<int64_t>(p) * out_plane;
    Range ry, rx;
    if (kind == PoolKind::kAdaptive) {
      ry = adaptive_range(iy, g.height, g.out_h);
      rx = adaptive_range(ix, g.width, g.out_w);
    } else {
      ry = strided_range(iy, g.stride_h, g.pad_h, g.kernel_h, g.out_h);
      rx = strided_range(ix, g.stride_w, g.pad_w, g.kernel_w, g.out_w);
    }
    T acc = T(0);
    for (int64_t oy = ry.lo; oy <= ry.hi; ++oy) {
      for (int64_t ox = rx.lo; ox <= rx.hi; ++ox) {
        const Window win = window_of(kind, g, oy, ox);
        // The ranges are exact; the test keeps the CPU's definition the only one that counts.
        if (win.divisor <= 0 || iy < win.y0 || iy >= win.y1 || ix < win.x0 || ix >= win.x1) {
          continue;
        }
        acc += grad_out[base + oy * g.out_w + ox] / static_cast<T>(win.divisor);
      }
    }
    grad_x[i] = acc;
  }
}

#undef CHORUS_POOL_LOOP

}  // namespace

void launch_max_pool_forward(bool f64, void* out, int64_t* indices, const void* x,
                             const PoolShape& g, StreamHandle stream) {
  const int64_t total = g.planes * g.out_h * g.out_w;
  if (total == 0) return;
  const bool narrow = fits_32(total) && fits_32(g.planes * g.height * g.width);
  const unsigned grid = grid_for(total);
  with_value_and_index_types(f64, narrow, [&]<class T, class I>() {
    max_pool_forward<T, I>
        <<<grid, kBlock, 0, stream>>>(static_cast<T*>(out), indices, static_cast<const T*>(x), g);
  });
}

void launch_max_pool_backward(bool f64, void* grad_x, const void* grad_out, const int64_t* indices,
                              const PoolShape& g, StreamHandle stream) {
  const int64_t total = g.planes * g.height * g.width;
  if (total == 0) return;
  const bool narrow = fits_32(total) && fits_32(g.planes * g.out_h * g.out_w);
  const unsigned grid = grid_for(total);
  with_value_and_index_types(f64, narrow, [&]<class T, class I>() {
    max_pool_backward<T, I><<<grid, kBlock, 0, stream>>>(
        static_cast<T*>(grad_x), static_cast<const T*>(grad_out), indices, g);
  });
}

void launch_avg_pool_forward(bool f64, PoolKind kind, void* out, const void* x, const PoolShape& g,
                             StreamHandle stream) {
  const int64_t total = g.planes * g.out_h * g.out_w;
  if (total == 0) return;
  const bool narrow = fits_32(total) && fits_32(g.planes * g.height * g.width);
  const unsigned grid = grid_for(total);
  with_value_and_index_types(f64, narrow, [&]<class T, class I>() {
    avg_pool_forward<T, I>
        <<<grid, kBlock, 0, stream>>>(static_cast<T*>(out), static_cast<const T*>(x), g, kind);
  });
}

void launch_avg_pool_backward(bool f64, PoolKind kind, void* grad_x, const void* grad_out,
                              const PoolShape& g, StreamHandle stream) {
  const int64_t total = g.planes * g.height * g.width;
  if (total == 0) return;
  const bool narrow = fits_32(total) && fits_32(g.planes * g.out_h * g.out_w);
  const unsigned grid = grid_for(total);
  with_value_and_index_types(f64, narrow, [&]<class T, class I>() {
    avg_pool_backward<T, I><<<grid, kBlock, 0, stream>>>(static_cast<T*>(grad_x),
                                                         static_cast<const T*>(grad_out), g, kind);
  });
}

}  // namespace chorus::cuda
