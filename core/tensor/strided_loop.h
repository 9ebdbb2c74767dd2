// Iteration over N strided operands that share one shape.
//
// for_each_row() walks the shape row by row (a row = the innermost dim) and calls
//   body(const int64_t* offsets, int64_t n, const int64_t* inner_strides)
// where offsets[k] is operand k's element offset of the row's first element. Rows are spread
// over the thread pool. Elementwise kernels use it for non-contiguous operands; contiguous
// operands take a flat fast path instead.
#pragma once

#include <array>
#include <cstdint>

#include "core/tensor/parallel.h"
#include "core/tensor/shape.h"

namespace chorus {

template <size_t N, class Body>
void for_each_row(const Shape& shape, const std::array<const Shape*, N>& strides,
                  const std::array<int64_t, N>& base, Body&& body) {
  const int64_t ndim = static_cast<int64_t>(shape.size());
  if (shape_numel(shape) == 0) return;
  if (ndim == 0) {
    std::array<int64_t, N> inner{};
    body(base.data(), 1, inner.data());
    return;
  }
  const int64_t n_inner = shape[ndim - 1];
  std::array<int64_t, N> inner;
  for (size_t k = 0; k < N; ++k) inner[k] = (*strides[k])[ndim - 1];
  const int64_t rows = shape_numel(shape) / n_inner;
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(n_inner, 1));
  parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
    // Decompose the first row index into outer coordinates, then step like an odometer.
    std::array<int64_t, 16> coord{};
    CHORUS_CHECK(ndim <= 17, "tensors with more than 17 dims are not supported");
    int64_t rem = r0;
    for (int64_t d = ndim - 2; d >= 0; --d) {
      coord[d] = rem % shape[d];
      rem /= shape[d];
    }
    std::array<int64_t, N> off;
    for (size_t k = 0; k < N; ++k) {
      off[k] = base[k];
      for (int64_t d = 0; d < ndim - 1; ++d) off[k] += coord[d] * (*strides[k])[d];
    }
    for (int64_t r = r0; r < r1; ++r) {
      body(off.data(), n_inner, inner.data());
      for (int64_t d = ndim - 2; d >= 0; --d) {
        ++coord[d];
        for (size_t k = 0; k < N; ++k) off[k] += (*strides[k])[d];
        if (coord[d] < shape[d]) break;
        for (size_t k = 0; k < N; ++k) off[k] -= coord[d] * (*strides[k])[d];
        coord[d] = 0;
      }
    }
  });
}

}  // namespace chorus
