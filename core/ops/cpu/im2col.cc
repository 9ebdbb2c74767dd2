#include "core/ops/cpu/im2col.h"

#include <algorithm>

#include "core/tensor/parallel.h"

namespace chorus::cpu {
namespace {

// Output columns ox whose input column ix = ox·stride + offset lies inside [0, width).
struct Span {
  int64_t lo, hi;
};
Span valid_span(int64_t offset, int64_t stride, int64_t width, int64_t out_w) {
  const int64_t lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  const int64_t hi = offset > width - 1 ? 0 : std::min(out_w, (width - 1 - offset) / stride + 1);
  return {std::min(lo, out_w), std::max(std::min(lo, out_w), hi)};
}

}  // namespace

template <class T>
void im2col(const T* image, T* col, const ConvGeometry& g) {
  const int64_t taps = g.kernel_h * g.kernel_w, rows = g.group_in() * taps;
  const int64_t pixels = g.pixels();
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(pixels, 1));
  parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t c = r / taps, ki = (r / g.kernel_w) % g.kernel_h, kj = r % g.kernel_w;
      const int64_t x_off = kj * g.dilation_w - g.pad_w;
      const Span span = valid_span(x_off, g.stride_w, g.width, g.out_w);
      T* dst = col + r * pixels;
      for (int64_t oy = 0; oy < g.out_h; ++oy, dst += g.out_w) {
        const int64_t iy = oy * g.stride_h - g.pad_h + ki * g.dilation_h;
        if (iy < 0 || iy >= g.height) {
          std::fill(dst, dst + g.out_w, T(0));
          continue;
        }
        const T* src = image + (c * g.height + iy) * g.width;
        std::fill(dst, dst + span.lo, T(0));
        if (g.stride_w == 1) {
          std::copy(src + span.lo + x_off, src + span.hi + x_off, dst + span.lo);
        } else {
          for (int64_t ox = span.lo; ox < span.hi; ++ox) dst[ox] = src[ox * g.stride_w + x_off];
        }
        std::fill(dst + span.hi, dst + g.out_w, T(0));
      }
    }
  });
}

template <class T>
void col2im_add(const T* col, T* image, const ConvGeometry& g) {
  const int64_t taps = g.kernel_h * g.kernel_w, pixels = g.pixels();
  const int64_t grain =
      std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(taps * pixels, 1));
  parallel_for(0, g.group_in(), grain, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      for (int64_t ki = 0; ki < g.kernel_h; ++ki) {
        for (int64_t kj = 0; kj < g.kernel_w; ++kj) {
          const int64_t x_off = kj * g.dilation_w - g.pad_w;
          const Span span = valid_span(x_off, g.stride_w, g.width, g.out_w);
          const T* src = col + ((c * g.kernel_h + ki) * g.kernel_w + kj) * pixels;
          for (int64_t oy = 0; oy < g.out_h; ++oy, src += g.out_w) {
            const int64_t iy = oy * g.stride_h - g.pad_h + ki * g.dilation_h;
            if (iy < 0 || iy >= g.height) continue;
            T* dst = image + (c * g.height + iy) * g.width;
            for (int64_t ox = span.lo; ox < span.hi; ++ox) dst[ox * g.stride_w + x_off] += src[ox];
          }
        }
      }
    }
  });
}

template void im2col<float>(const float*, float*, const ConvGeometry&);
template void im2col<double>(const double*, double*, const ConvGeometry&);
template void col2im_add<float>(const float*, float*, const ConvGeometry&);
template void col2im_add<double>(const double*, double*, const ConvGeometry&);

}  // namespace chorus::cpu
