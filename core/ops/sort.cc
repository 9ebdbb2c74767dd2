// Front-ends of sort / argsort / topk: move the sorted dim last so kernels see contiguous
// rows, run the row kernel, move the dim back, and record the values' gradient (a
// scatter_add of the output gradient to the positions in `indices`).
#include "core/ops/sort.h"

#include <utility>

#include "core/autograd/node.h"
#include "core/ops/cpu/sort_kernels.h"
#include "core/ops/index.h"
#include "core/ops/kernel_dispatch.h"
#include "core/ops/operands.h"

namespace chorus {

using autograd::Grads;

namespace {

// A view of `t` with dims d and last swapped (its own inverse). Raw, not recorded.
Tensor swap_last(const Tensor& t, int64_t d) {
  Shape shape = t.shape(), strides = t.strides();
  std::swap(shape[d], shape.back());
  std::swap(strides[d], strides.back());
  return t.as_strided(shape, strides, t.offset());
}

// Runs `kernel(values_rows, indices_rows, x_rows)` over the rows of x along `dim`, where the
// outputs have `out_n` elements per row, and returns them in x's layout (dim in place).
template <class Kernel>
ValuesIndices along_dim(const char* op, const Tensor& x, int64_t dim, int64_t out_n,
                        Kernel&& kernel) {
  const int64_t d = x.dim() == 0 ? 0 : wrap_dim(dim, x.dim());
  // A 0-dim tensor is sorted as one row of one element.
  const Tensor xl = x.dim() == 0 ? x.as_strided({1}, {1}, x.offset()) : x;
  // Reduced-precision floats are ordered in f32 (exactly representable there).
  const DType compute = is_floating(x.dtype()) ? ops_internal::kernel_dtype(x.dtype()) : x.dtype();
  const Tensor moved = ops_internal::contiguous_raw(swap_last(xl, d), compute);
  const int64_t n = moved.shape().back();
  const int64_t rows = n == 0 ? shape_numel(Shape(moved.shape().begin(), moved.shape().end() - 1))
                              : moved.numel() / n;
  Shape out_shape = moved.shape();
  out_shape.back() = out_n;
  Tensor values = Tensor::empty(out_shape, compute, x.device());
  Tensor indices = Tensor::empty(out_shape, DType::kI64, x.device());
  kernel(values.as_strided({rows, out_n}, {out_n, 1}, 0),
         indices.as_strided({rows, out_n}, {out_n, 1}, 0),
         moved.as_strided({rows, n}, {n, 1}, moved.offset()));
  ValuesIndices out;
  out.values = ops_internal::contiguous_raw(swap_last(values, d), x.dtype());
  out.indices = ops_internal::contiguous_raw(swap_last(indices, d), DType::kI64);
  if (x.dim() == 0) {
    out.values = out.values.as_strided({}, {}, 0);
    out.indices = out.indices.as_strided({}, {}, 0);
  }
  autograd::record(
      op, {x}, {out.values}, [d, shape = x.shape(), idx = out.indices.detach()](const Grads& g) {
        if (shape.empty()) return Grads{g[0]};  // the one element maps to itself
        return Grads{scatter_add(Tensor::zeros(shape, g[0].dtype(), g[0].device()), d, idx, g[0])};
      });
  return out;
}

int64_t size_along(const Tensor& x, int64_t dim) {
  return x.dim() == 0 ? 1 : x.shape()[wrap_dim(dim, x.dim())];
}

}  // namespace

ValuesIndices sort(const Tensor& x, int64_t dim, bool descending, bool /*stable*/) {
  ops_internal::require_same_device("sort", {&x});
  return along_dim("sort", x, dim, size_along(x, dim),
                   [&](const Tensor& v, const Tensor& i, const Tensor& rows) {
                     CHORUS_KERNEL(cpu::sort_rows)(v, i, rows, descending);
                   });
}

Tensor argsort(const Tensor& x, int64_t dim, bool descending, bool stable) {
  return sort(x, dim, descending, stable).indices;
}

ValuesIndices topk(const Tensor& x, int64_t k, int64_t dim, bool largest, bool sorted) {
  ops_internal::require_same_device("topk", {&x});
  const int64_t n = size_along(x, dim);
  CHORUS_CHECK(k >= 0 && k <= n, "topk: k = ", k, " is out of range for dim ", dim, " of size ", n,
               " in ", shape_str(x.shape()));
  return along_dim("topk", x, dim, k, [&](const Tensor& v, const Tensor& i, const Tensor& rows) {
    CHORUS_KERNEL(cpu::topk_rows)(v, i, rows, k, largest, sorted);
  });
}

}  // namespace chorus
