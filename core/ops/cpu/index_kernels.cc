#include "core/ops/cpu/index_kernels.h"

#include <array>
#include <cstring>
#include <vector>

#include "core/ops/cpu/typed_dispatch.h"
#include "core/tensor/parallel.h"

namespace chorus::cpu {
namespace {

using OperandOffsets = std::array<int64_t, 3>;

// Walks rows [r0, r1) of `shape` (a row = the last dim) serially, calling
// body(offsets, n, inner_strides) with the element offset of each operand's row start.
// Serial on purpose: scatter kernels choose the partition between threads themselves so that
// no two threads write the same output element.
template <class Body>
void walk_rows(const Shape& shape, const std::array<Shape, 3>& strides, const OperandOffsets& base,
               int64_t r0, int64_t r1, Body&& body) {
  const int64_t nd = static_cast<int64_t>(shape.size());
  const OperandOffsets inner = {strides[0][nd - 1], strides[1][nd - 1], strides[2][nd - 1]};
  std::vector<int64_t> coord(nd, 0);
  int64_t rem = r0;
  for (int64_t d = nd - 2; d >= 0; --d) {
    coord[d] = rem % shape[d];
    rem /= shape[d];
  }
  OperandOffsets off = base;
  for (size_t k = 0; k < 3; ++k)
    for (int64_t d = 0; d < nd - 1; ++d) off[k] += coord[d] * strides[k][d];
  for (int64_t r = r0; r < r1; ++r) {
    body(off, shape[nd - 1], inner);
    for (int64_t d = nd - 2; d >= 0; --d) {  // odometer step to the next row
      ++coord[d];
      for (size_t k = 0; k < 3; ++k) off[k] += strides[k][d];
      if (coord[d] < shape[d]) break;
      for (size_t k = 0; k < 3; ++k) off[k] -= coord[d] * strides[k][d];
      coord[d] = 0;
    }
  }
}

// The operands of gather/scatter as seen by walk_rows: [dense, index, target], where `dense`
// has index's layout (out for gather, src for scatter) and `target` is the tensor addressed
// through the index (x for gather, out for scatter) with its `dim` stride zeroed: the index
// supplies that coordinate.
struct IndexWalk {
  Shape shape;
  std::array<Shape, 3> strides;
  OperandOffsets base;
  int64_t target_dim_stride;
};

IndexWalk make_walk(const Tensor& dense, const Tensor& index, const Tensor& target, int64_t dim) {
  IndexWalk w{index.shape(),
              {dense.strides(), index.strides(), target.strides()},
              {dense.offset(), index.offset(), target.offset()},
              target.strides()[dim]};
  w.strides[2][dim] = 0;
  return w;
}

}  // namespace

void gather_kernel(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index) {
  if (index.numel() == 0) return;
  const IndexWalk w = make_walk(out, index, x, dim);
  const int64_t n = w.shape.back(), rows = index.numel() / n;
  const int64_t* ip = static_cast<const int64_t*>(index.storage()->data());
  CHORUS_DISPATCH_BY_SIZE(x.itemsize(), T, [&] {
    T* op = static_cast<T*>(out.storage()->data());
    const T* xp = static_cast<const T*>(x.storage()->data());
    // Reads only from x, so any partition of the rows is safe.
    parallel_for(0, rows, std::max<int64_t>(1, kElementwiseGrain / n), [&](int64_t r0, int64_t r1) {
      walk_rows(w.shape, w.strides, w.base, r0, r1,
                [&](const OperandOffsets& off, int64_t len, const OperandOffsets& st) {
                  for (int64_t j = 0; j < len; ++j) {
                    const int64_t i = ip[off[1] + j * st[1]];
                    op[off[0] + j * st[0]] = xp[off[2] + j * st[2] + i * w.target_dim_stride];
                  }
                });
    });
  });
}

void scatter_add_kernel(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  if (index.numel() == 0) return;
  const IndexWalk w = make_walk(src, index, out, dim);
  const int64_t nd = static_cast<int64_t>(w.shape.size());
  const int64_t n = w.shape.back(), rows = index.numel() / n;
  const int64_t* ip = static_cast<const int64_t*>(index.storage()->data());
  CHORUS_DISPATCH_REAL(out.dtype(), T, [&] {
    T* op = static_cast<T*>(out.storage()->data());
    const T* sp = static_cast<const T*>(src.storage()->data());
    auto body = [&](const OperandOffsets& off, int64_t len, const OperandOffsets& st) {
      for (int64_t j = 0; j < len; ++j) {
        const int64_t i = ip[off[1] + j * st[1]];
        op[off[2] + j * st[2] + i * w.target_dim_stride] += sp[off[0] + j * st[0]];
      }
    };
    if (dim == nd - 1) {
      // A row runs along `dim`: rows write disjoint output rows, so split by rows.
      parallel_for(
          0, rows, std::max<int64_t>(1, kElementwiseGrain / n),
          [&](int64_t r0, int64_t r1) { walk_rows(w.shape, w.strides, w.base, r0, r1, body); });
      return;
    }
    // Rows at different `dim` coordinates may hit the same output row, but never the same
    // column of the last dim: give each thread a block of columns and walk every row in it.
    parallel_for(0, n, std::max<int64_t>(1, kElementwiseGrain / rows), [&](int64_t c0, int64_t c1) {
      Shape block = w.shape;
      block.back() = c1 - c0;
      OperandOffsets base = w.base;
      for (size_t k = 0; k < 3; ++k) base[k] += c0 * w.strides[k].back();
      walk_rows(block, w.strides, base, 0, rows, body);
    });
  });
}

namespace {

// [outer, n, inner] sizes of a contiguous tensor around `dim`.
struct Around {
  int64_t outer = 1, n = 1, inner = 1;
};
Around around(const Shape& shape, int64_t dim) {
  Around a;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    if (d < dim) a.outer *= shape[d];
    if (d == dim) a.n = shape[d];
    if (d > dim) a.inner *= shape[d];
  }
  return a;
}

}  // namespace

void index_select_kernel(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index) {
  const Around a = around(x.shape(), dim);
  const int64_t k = index.numel();
  if (a.outer * k * a.inner == 0) return;
  const int64_t* ip = index.data<int64_t>();
  CHORUS_DISPATCH_BY_SIZE(x.itemsize(), T, [&] {
    T* op = static_cast<T*>(out.raw_data());
    const T* xp = static_cast<const T*>(x.raw_data());
    parallel_for(0, a.outer * k, std::max<int64_t>(1, kElementwiseGrain / a.inner),
                 [&](int64_t r0, int64_t r1) {
                   for (int64_t r = r0; r < r1; ++r) {
                     const int64_t o = r / k, j = r % k;
                     const T* from = xp + (o * a.n + ip[j]) * a.inner;
                     T* to = op + r * a.inner;
                     if (a.inner == 1) {
                       *to = *from;
                     } else {
                       std::memcpy(to, from, static_cast<size_t>(a.inner) * sizeof(T));
                     }
                   }
                 });
  });
}

void index_add_kernel(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  const Around a = around(out.shape(), dim);
  const int64_t k = index.numel();
  if (a.outer * k * a.inner == 0) return;
  const int64_t* ip = index.data<int64_t>();
  // Tasks own (outer slice, block of inner columns) pairs: repeated indices then only ever
  // meet inside one task, so no two threads add into the same element.
  const int64_t blocks =
      a.outer >= num_threads() ? 1 : std::min<int64_t>(num_threads(), (a.inner + 63) / 64);
  const int64_t width = (a.inner + blocks - 1) / blocks;
  CHORUS_DISPATCH_REAL(out.dtype(), T, [&] {
    T* op = static_cast<T*>(out.raw_data());
    const T* sp = static_cast<const T*>(src.raw_data());
    const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, k * width));
    parallel_for(0, a.outer * blocks, grain, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t o = t / blocks, c0 = (t % blocks) * width;
        const int64_t c1 = std::min(a.inner, c0 + width);
        for (int64_t j = 0; j < k; ++j) {
          T* to = op + (o * a.n + ip[j]) * a.inner;
          const T* from = sp + (o * k + j) * a.inner;
          for (int64_t c = c0; c < c1; ++c) to[c] += from[c];
        }
      }
    });
  });
}

}  // namespace chorus::cpu
