// Softmax and log_softmax over the last dim and over a middle dim (one thread per column). Rows
// of 16-byte-aligned vectors that fit in registers (row_regs.cuh: up to 32768 bf16 columns) take
// the register kernels launched here; the rest one block per row, the row read once and cached
// in shared memory when it fits. bf16 rows (uint16_t bits) are widened on load and rounded once
// on store.
#include "core/ops/cuda/row_common.cuh"
#include "core/ops/cuda/row_launch.h"
#include "core/ops/cuda/row_regs.cuh"

namespace chorus::cuda {
namespace {

using namespace row_detail;

template <class T>
__global__ void softmax_rows(T* y, const T* x, int64_t rows, int64_t n, bool log, bool cache,
                             bool vec) {
  using A = Acc<T>;
  extern __shared__ __align__(16) unsigned char smem[];
  A* buf = reinterpret_cast<A*>(smem);
  __shared__ A scratch[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * n;
    A m = -INFINITY;
    for_each_chunk(xr, n, vec, [&](int64_t j, const A* v, int count) {
      for (int k = 0; k < count; ++k) {
        if (cache) buf[j + k] = v[k];
        m = fmax(m, v[k]);
      }
    });
    m = block_max(m, scratch);
    const RowView<T> row{xr, cache ? buf : nullptr};
    A s = 0;
    if (cache) {
      for (int64_t j = threadIdx.x; j < n; j += blockDim.x) s += exp(buf[j] - m);
    } else {
      for_each_chunk(xr, n, vec, [&](int64_t, const A* v, int count) {
        for (int k = 0; k < count; ++k) s += exp(v[k] - m);
      });
    }
    s = block_sum(s, scratch);
    T* yr = y + r * n;
    if (log) {
      const A lse = m + ::log(s);
      store_row(yr, n, vec, [&](int64_t j) { return row[j] - lse; });
    } else {
      const A inv = A(1) / s;
      store_row(yr, n, vec, [&](int64_t j) { return exp(row[j] - m) * inv; });
    }
    __syncthreads();  // the cache is rewritten by the next row
  }
}

template <class T>
__global__ void softmax_rows_backward(T* gx, const T* g, const T* y, int64_t rows, int64_t n,
                                      bool log, bool cache, bool vec) {
  using A = Acc<T>;
  using V = Vec16<T>;
  extern __shared__ __align__(16) unsigned char smem[];
  A* gbuf = reinterpret_cast<A*>(smem);
  A* ybuf = gbuf + n;
  __shared__ A scratch[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* gr = g + r * n;
    const T* yr = y + r * n;
    A s = 0;
    for_each_chunk(gr, n, vec, [&](int64_t j, const A* gv, int count) {
      A yv[V::kWidth];
      if (count == 1) {
        yv[0] = RowIo<T>::load(yr, j);
      } else {
        V::load(yr, j, yv);
      }
      for (int k = 0; k < count; ++k) {
        if (cache) {
          gbuf[j + k] = gv[k];
          ybuf[j + k] = yv[k];
        }
        s += log ? gv[k] : gv[k] * yv[k];
      }
    });
    s = block_sum(s, scratch);
    const RowView<T> gv{gr, cache ? gbuf : nullptr}, yv{yr, cache ? ybuf : nullptr};
    store_row(gx + r * n, n, vec,
              [&](int64_t j) { return log ? gv[j] - exp(yv[j]) * s : yv[j] * (gv[j] - s); });
    __syncthreads();
  }
}

// Softmax over a middle dim: one thread per (outer, inner) column, three passes down n.
template <class T>
__global__ void softmax_cols(T* y, const T* x, int64_t outer, int64_t n, int64_t inner, bool log) {
  using A = Acc<T>;
  const int64_t cols = outer * inner;
  for (int64_t c = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; c < cols;
       c += int64_t{gridDim.x} * blockDim.x) {
    const int64_t base = (c / inner) * n * inner + c % inner;
    A m = -INFINITY;
    for (int64_t k = 0; k < n; ++k) m = fmax(m, RowIo<T>::load(x, base + k * inner));
    A s = 0;
    for (int64_t k = 0; k < n; ++k) s += exp(RowIo<T>::load(x, base + k * inner) - m);
    const A lse = m + ::log(s);
    for (int64_t k = 0; k < n; ++k) {
      const A v = RowIo<T>::load(x, base + k * inner);
      RowIo<T>::store(y, base + k * inner, log ? v - lse : exp(v - m) / s);
    }
  }
}

template <class T>
__global__ void softmax_cols_backward(T* gx, const T* g, const T* y, int64_t outer, int64_t n,
                                      int64_t inner, bool log) {
  using A = Acc<T>;
  const int64_t cols = outer * inner;
  for (int64_t c = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; c < cols;
       c += int64_t{gridDim.x} * blockDim.x) {
    const int64_t base = (c / inner) * n * inner + c % inner;
    A s = 0;
    for (int64_t k = 0; k < n; ++k) {
      const A gv = RowIo<T>::load(g, base + k * inner);
      s += log ? gv : gv * RowIo<T>::load(y, base + k * inner);
    }
    for (int64_t k = 0; k < n; ++k) {
      const int64_t i = base + k * inner;
      const A gv = RowIo<T>::load(g, i), yv = RowIo<T>::load(y, i);
      RowIo<T>::store(gx, i, log ? gv - exp(yv) * s : yv * (gv - s));
    }
  }
}

template <class T>
void softmax_fwd(T* y, const T* x, int64_t outer, int64_t n, int64_t inner, bool log,
                 StreamHandle stream) {
  if (inner != 1) {
    softmax_cols<T><<<grid_for(outer * inner), kBlock, 0, stream>>>(y, x, outer, n, inner, log);
    return;
  }
  RowPlan plan;
  if (vectorizable<T>(n, {x, y}) && row_plan<T>(n, /*target=*/4, /*max_vecs=*/8, &plan)) {
    with_vecs(plan.vecs, [&](auto kv) {
      constexpr int kV = decltype(kv)::value;
      auto kernel = softmax_forward_regs<T, kV>;
      const bool prefetch = row_prefetch() && kV * Pack<T>::kWidth <= 32;
      kernel<<<row_grid(kernel, plan, outer), plan.threads, 0, stream>>>(y, x, outer, n, log,
                                                                         plan.group, prefetch);
    });
    return;
  }
  const size_t bytes = n * sizeof(Acc<T>);
  const bool cache = bytes <= kMaxCacheBytes;
  allow_smem(softmax_rows<T>, cache ? bytes : 0);
  const bool vec = vectorizable<T>(n, {x, y});
  softmax_rows<T><<<row_blocks(outer), row_threads(n), cache ? bytes : 0, stream>>>(
      y, x, outer, n, log, cache, vec);
}

template <class T>
void softmax_bwd(T* gx, const T* g, const T* y, int64_t outer, int64_t n, int64_t inner, bool log,
                 StreamHandle stream) {
  if (inner != 1) {
    softmax_cols_backward<T>
        <<<grid_for(outer * inner), kBlock, 0, stream>>>(gx, g, y, outer, n, inner, log);
    return;
  }
  RowPlan plan;
  if (vectorizable<T>(n, {gx, g, y}) && row_plan<T>(n, /*target=*/2, /*max_vecs=*/8, &plan)) {
    with_vecs(plan.vecs, [&](auto kv) {
      constexpr int kV = decltype(kv)::value;
      auto kernel = softmax_backward_regs<T, kV>;
      const bool prefetch = row_prefetch() && kV * Pack<T>::kWidth <= 16;
      kernel<<<row_grid(kernel, plan, outer), plan.threads, 0, stream>>>(gx, g, y, outer, n, log,
                                                                         plan.group, prefetch);
    });
    return;
  }
  const size_t bytes = 2 * n * sizeof(Acc<T>);
  const bool cache = bytes <= kMaxCacheBytes;
  allow_smem(softmax_rows_backward<T>, cache ? bytes : 0);
  const bool vec = vectorizable<T>(n, {gx, g, y});
  softmax_rows_backward<T><<<row_blocks(outer), row_threads(n), cache ? bytes : 0, stream>>>(
      gx, g, y, outer, n, log, cache, vec);
}

}  // namespace

void launch_softmax_forward(DType io, void* y, const void* x, int64_t outer, int64_t n,
                            int64_t inner, bool log, StreamHandle stream) {
  if (outer * n * inner == 0) return;
  switch (io) {
    case DType::kF32:
      return softmax_fwd(static_cast<float*>(y), static_cast<const float*>(x), outer, n, inner, log,
                         stream);
    case DType::kF64:
      return softmax_fwd(static_cast<double*>(y), static_cast<const double*>(x), outer, n, inner,
                         log, stream);
    default:
      return softmax_fwd(static_cast<uint16_t*>(y), static_cast<const uint16_t*>(x), outer, n,
                         inner, log, stream);
  }
}

void launch_softmax_backward(DType io, void* gx, const void* g, const void* y, int64_t outer,
                             int64_t n, int64_t inner, bool log, StreamHandle stream) {
  if (outer * n * inner == 0) return;
  switch (io) {
    case DType::kF32:
      return softmax_bwd(static_cast<float*>(gx), static_cast<const float*>(g),
                         static_cast<const float*>(y), outer, n, inner, log, stream);
    case DType::kF64:
      return softmax_bwd(static_cast<double*>(gx), static_cast<const double*>(g),
                         static_cast<const double*>(y), outer, n, inner, log, stream);
    default:
      return softmax_bwd(static_cast<uint16_t*>(gx), static_cast<const uint16_t*>(g),
                         static_cast<const uint16_t*>(y), outer, n, inner, log, stream);
  }
}

}  // namespace chorus::cuda
