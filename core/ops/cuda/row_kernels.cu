// Softmax, layer norm and RMS norm: one block per row (grid-stride over rows). Each kernel
// reads its row from global memory once: the row is kept in shared memory (as the compute
// type) when it fits, so the statistics passes and the output pass re-read on-chip memory.
// bf16 rows (stored as uint16_t bits) are widened on load and rounded once on store.
#include <algorithm>
#include <initializer_list>

#include "core/ops/cuda/common.cuh"
#include "core/ops/cuda/row_launch.h"

namespace chorus::cuda {
namespace {

// Shared memory a block may use for its row cache (opt-in above 48 KiB on Hopper).
constexpr int64_t kMaxCacheBytes = 96 * 1024;

template <class T>
using Acc = std::conditional_t<std::is_same_v<T, double>, double, float>;

int row_threads(int64_t n) { return n >= 4096 ? 512 : n >= 1024 ? 256 : n >= 256 ? 128 : 32; }
unsigned row_blocks(int64_t rows) {
  return static_cast<unsigned>(std::clamp<int64_t>(rows, 1, 65535 * 16));
}

template <class K>
void allow_smem(K kernel, size_t bytes) {
  if (bytes > 40 * 1024) {  // static shared memory counts towards the 48 KiB default too
    cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                         static_cast<int>(bytes));
  }
}

// A row of n values, cached in shared memory when `cache` is set.
template <class T>
struct RowView {
  const T* src;
  Acc<T>* cache;  // null: read src each time
  __device__ Acc<T> operator[](int64_t j) const {
    return cache ? cache[j] : RowIo<T>::load(src, j);
  }
};

// ------------------------------------------------------------------ softmax (last dim)

// Visits the row's elements: `vec` in 16-byte groups (j a multiple of the width), else one at
// a time. f(j, v, count) gets `count` consecutive values starting at column j.
template <class T, class F>
__device__ __forceinline__ void for_each_chunk(const T* row, int64_t n, bool vec, F f) {
  using V = Vec16<T>;
  if (vec) {
    for (int64_t j = threadIdx.x * int64_t{V::kWidth}; j < n; j += blockDim.x * V::kWidth) {
      Acc<T> v[V::kWidth];
      V::load(row, j, v);
      f(j, v, V::kWidth);
    }
  } else {
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
      Acc<T> v[V::kWidth];
      v[0] = RowIo<T>::load(row, j);
      f(j, v, 1);
    }
  }
}

// Writes the row: g(j) gives the value of column j.
template <class T, class G>
__device__ __forceinline__ void store_row(T* row, int64_t n, bool vec, G g) {
  using V = Vec16<T>;
  if (vec) {
    for (int64_t j = threadIdx.x * int64_t{V::kWidth}; j < n; j += blockDim.x * V::kWidth) {
      Acc<T> v[V::kWidth];
#pragma unroll
      for (int k = 0; k < V::kWidth; ++k) v[k] = g(j + k);
      V::store(row, j, v);
    }
  } else {
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) RowIo<T>::store(row, j, g(j));
  }
}

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

// ------------------------------------------------------------------ layer norm / RMS norm

template <class T, bool kRms>
__global__ void norm_forward(T* y, Acc<T>* mean_out, Acc<T>* rstd_out, const T* x, const Acc<T>* w,
                             const Acc<T>* b, int64_t rows, int64_t d, Acc<T> eps, bool cache,
                             bool vec) {
  using A = Acc<T>;
  extern __shared__ __align__(16) unsigned char smem[];
  A* buf = reinterpret_cast<A*>(smem);
  __shared__ A scratch[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * d;
    A s = 0;
    for_each_chunk(xr, d, vec, [&](int64_t j, const A* v, int count) {
      for (int k = 0; k < count; ++k) {
        if (cache) buf[j + k] = v[k];
        s += kRms ? v[k] * v[k] : v[k];
      }
    });
    s = block_sum(s, scratch);
    const RowView<T> row{xr, cache ? buf : nullptr};
    A mean = 0, var;
    if (kRms) {
      var = s / static_cast<A>(d);
    } else {
      // Two passes (mean, then Σ(x - mean)²) avoid cancellation, as on the CPU.
      mean = s / static_cast<A>(d);
      A q = 0;
      for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
        const A c = row[j] - mean;
        q += c * c;
      }
      var = block_sum(q, scratch) / static_cast<A>(d);
    }
    const A rstd = A(1) / sqrt(var + eps);
    if (threadIdx.x == 0) {
      if (mean_out) mean_out[r] = mean;
      rstd_out[r] = rstd;
    }
    store_row(y + r * d, d, vec, [&](int64_t j) {
      A v = (row[j] - mean) * rstd;
      if (w) v *= w[j];
      if (b) v += b[j];
      return v;
    });
    __syncthreads();
  }
}

// gx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = g·w, x̂ = (x − mean)·rstd (RMS: no mean(ĝ)).
// With `params`, the block also sums g·x̂ and g over its rows for the weight and bias
// gradients, in shared memory at columns each thread owns (the same thread handles column j
// in every row, so no atomics), and writes one partial row per block to partial_w/partial_b.
template <class T, bool kRms>
__global__ void norm_backward_input(T* gx, Acc<T>* partial_w, Acc<T>* partial_b, const T* g,
                                    const T* x, const Acc<T>* mean, const Acc<T>* rstd,
                                    const Acc<T>* w, int64_t rows, int64_t d, bool cache, bool vec,
                                    bool params) {
  using A = Acc<T>;
  using V = Vec16<T>;
  extern __shared__ __align__(16) unsigned char smem[];
  A* gbuf = reinterpret_cast<A*>(smem);  // ĝ, then x̂, then the parameter partials
  A* xbuf = gbuf + (cache ? d : 0);
  A* pw = xbuf + (cache ? d : 0);
  A* pb = pw + d;
  __shared__ A scratch[32];
  if (params) {
    for (int64_t j = threadIdx.x; j < d; j += blockDim.x) pw[j] = pb[j] = A(0);
    __syncthreads();
  }
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* gr = g + r * d;
    const T* xr = x + r * d;
    const A mu = kRms ? A(0) : mean[r], rs = rstd[r];
    A sg = 0, sgx = 0;
    for_each_chunk(gr, d, vec, [&](int64_t j, const A* graw, int count) {
      A xv[V::kWidth];
      if (count == 1) {
        xv[0] = RowIo<T>::load(xr, j);
      } else {
        V::load(xr, j, xv);
      }
      for (int k = 0; k < count; ++k) {
        const A xh = (xv[k] - mu) * rs;
        const A gv = graw[k] * (w ? w[j + k] : A(1));
        if (cache) {
          gbuf[j + k] = gv;
          xbuf[j + k] = xh;
        }
        if (params) {  // the thread that owns column j + k in every row
          pw[j + k] += graw[k] * xh;
          pb[j + k] += graw[k];
        }
        sg += gv;
        sgx += gv * xh;
      }
    });
    if (!kRms) sg = block_sum(sg, scratch);
    sgx = block_sum(sgx, scratch);
    const A inv_d = A(1) / static_cast<A>(d);
    const A mg = sg * inv_d, mgx = sgx * inv_d;
    if (gx != nullptr) {
      store_row(gx + r * d, d, vec, [&](int64_t j) {
        A gv, xh;
        if (cache) {
          gv = gbuf[j];
          xh = xbuf[j];
        } else {
          gv = RowIo<T>::load(gr, j) * (w ? w[j] : A(1));
          xh = (RowIo<T>::load(xr, j) - mu) * rs;
        }
        return rs * (kRms ? gv - xh * mgx : gv - mg - xh * mgx);
      });
    }
    __syncthreads();
  }
  if (params) {
    __syncthreads();
    for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
      partial_w[blockIdx.x * d + j] = pw[j];
      partial_b[blockIdx.x * d + j] = pb[j];
    }
  }
}

constexpr int kParamChunks = 128;

template <class T, bool kRms>
__global__ void norm_backward_params(Acc<T>* partial_w, Acc<T>* partial_b, const T* g, const T* x,
                                     const Acc<T>* mean, const Acc<T>* rstd, int64_t rows,
                                     int64_t d) {
  using A = Acc<T>;
  __shared__ A sw[8][33], sb[8][33];
  const int64_t j = blockIdx.x * 32 + threadIdx.x;
  const int64_t per_chunk = (rows + gridDim.y - 1) / gridDim.y;
  const int64_t r0 = blockIdx.y * per_chunk, r1 = min(rows, r0 + per_chunk);
  A aw = 0, ab = 0;
  if (j < d) {
    for (int64_t r = r0 + threadIdx.y; r < r1; r += 8) {
      const A gv = RowIo<T>::load(g, r * d + j);
      const A xh = (RowIo<T>::load(x, r * d + j) - (kRms ? A(0) : mean[r])) * rstd[r];
      aw += gv * xh;
      ab += gv;
    }
  }
  sw[threadIdx.y][threadIdx.x] = aw;
  sb[threadIdx.y][threadIdx.x] = ab;
  __syncthreads();
  if (threadIdx.y == 0 && j < d) {
    for (int k = 1; k < 8; ++k) {
      aw += sw[k][threadIdx.x];
      ab += sb[k][threadIdx.x];
    }
    partial_w[blockIdx.y * d + j] = aw;
    partial_b[blockIdx.y * d + j] = ab;
  }
}

template <class A>
__global__ void sum_partials(A* out_w, A* out_b, const A* partial_w, const A* partial_b, int chunks,
                             int64_t d) {
  for (int64_t j = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; j < d;
       j += int64_t{gridDim.x} * blockDim.x) {
    A aw = 0, ab = 0;
    for (int c = 0; c < chunks; ++c) {
      aw += partial_w[c * d + j];
      ab += partial_b[c * d + j];
    }
    if (out_w) out_w[j] = aw;
    if (out_b) out_b[j] = ab;
  }
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

template <class T>
bool vectorizable(int64_t n, std::initializer_list<const void*> ptrs) {
  if (n % Vec16<T>::kWidth != 0) return false;
  for (const void* p : ptrs) {
    if (p != nullptr && !aligned16(p)) return false;
  }
  return true;
}

int g_sm_count = 0;
int sm_count() {
  if (g_sm_count == 0) {
    int device = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&g_sm_count, cudaDevAttrMultiProcessorCount, device);
    if (g_sm_count <= 0) g_sm_count = 132;
  }
  return g_sm_count;
}

template <class T>
void softmax_fwd(T* y, const T* x, int64_t outer, int64_t n, int64_t inner, bool log,
                 StreamHandle stream) {
  if (inner != 1) {
    softmax_cols<T><<<grid_for(outer * inner), kBlock, 0, stream>>>(y, x, outer, n, inner, log);
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
  const size_t bytes = 2 * n * sizeof(Acc<T>);
  const bool cache = bytes <= kMaxCacheBytes;
  allow_smem(softmax_rows_backward<T>, cache ? bytes : 0);
  const bool vec = vectorizable<T>(n, {gx, g, y});
  softmax_rows_backward<T><<<row_blocks(outer), row_threads(n), cache ? bytes : 0, stream>>>(
      gx, g, y, outer, n, log, cache, vec);
}

template <class T, bool kRms>
void norm_fwd(void* y, void* mean, void* rstd, const void* x, const void* w, const void* b,
              int64_t rows, int64_t d, double eps, StreamHandle stream) {
  using A = Acc<T>;
  const size_t bytes = d * sizeof(A);
  const bool cache = bytes <= kMaxCacheBytes;
  allow_smem(norm_forward<T, kRms>, cache ? bytes : 0);
  const bool vec = vectorizable<T>(d, {x, y});
  norm_forward<T, kRms><<<row_blocks(rows), row_threads(d), cache ? bytes : 0, stream>>>(
      static_cast<T*>(y), static_cast<A*>(mean), static_cast<A*>(rstd), static_cast<const T*>(x),
      static_cast<const A*>(w), static_cast<const A*>(b), rows, d, static_cast<A>(eps), cache, vec);
}

// Blocks of the fused parameter-gradient path: enough to fill the GPU, few enough that the
// partial rows (blocks × d) stay small next to the tensors.
int64_t param_blocks(int64_t rows) { return std::clamp<int64_t>(rows, 1, 2 * sm_count()); }

template <class T, bool kRms>
void norm_bwd(void* gx, void* gw, void* gb, const void* g, const void* x, const void* mean,
              const void* rstd, const void* w, int64_t rows, int64_t d, void* workspace,
              StreamHandle stream) {
  using A = Acc<T>;
  const bool params = gw != nullptr || gb != nullptr;
  const size_t cache_bytes = 2 * d * sizeof(A);
  const size_t param_bytes = 2 * d * sizeof(A);
  const bool vec = vectorizable<T>(d, {gx, g, x});
  // Parameter partials in shared memory when they fit (with or without the row cache);
  // otherwise a separate column-sum kernel re-reads g and x.
  const bool fused = params && param_bytes <= kMaxCacheBytes;
  const bool cache = cache_bytes + (fused ? param_bytes : 0) <= kMaxCacheBytes;
  const size_t smem = (cache ? cache_bytes : 0) + (fused ? param_bytes : 0);
  A* pw = static_cast<A*>(workspace);
  const int64_t blocks = fused ? param_blocks(rows) : row_blocks(rows);
  A* pb = pw + (fused ? blocks : kParamChunks) * d;
  if (gx != nullptr || fused) {
    allow_smem(norm_backward_input<T, kRms>, smem);
    norm_backward_input<T, kRms><<<static_cast<unsigned>(blocks), row_threads(d), smem, stream>>>(
        static_cast<T*>(gx), pw, pb, static_cast<const T*>(g), static_cast<const T*>(x),
        static_cast<const A*>(mean), static_cast<const A*>(rstd), static_cast<const A*>(w), rows, d,
        cache, vec, fused);
  }
  if (!params) return;
  int chunks = static_cast<int>(blocks);
  if (!fused) {
    chunks = static_cast<int>(std::clamp<int64_t>((rows + 63) / 64, 1, kParamChunks));
    dim3 grid(static_cast<unsigned>((d + 31) / 32), chunks);
    norm_backward_params<T, kRms><<<grid, dim3(32, 8), 0, stream>>>(
        pw, pb, static_cast<const T*>(g), static_cast<const T*>(x), static_cast<const A*>(mean),
        static_cast<const A*>(rstd), rows, d);
  }
  sum_partials<A><<<grid_for(d), kBlock, 0, stream>>>(static_cast<A*>(gw), static_cast<A*>(gb), pw,
                                                      pb, chunks, d);
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

void launch_norm_forward(bool rms, DType io, void* y, void* mean, void* rstd, const void* x,
                         const void* weight, const void* bias, int64_t rows, int64_t d, double eps,
                         StreamHandle stream) {
  if (rows == 0) return;
  switch (io) {
    case DType::kF32:
      return rms ? norm_fwd<float, true>(y, mean, rstd, x, weight, bias, rows, d, eps, stream)
                 : norm_fwd<float, false>(y, mean, rstd, x, weight, bias, rows, d, eps, stream);
    case DType::kF64:
      return rms ? norm_fwd<double, true>(y, mean, rstd, x, weight, bias, rows, d, eps, stream)
                 : norm_fwd<double, false>(y, mean, rstd, x, weight, bias, rows, d, eps, stream);
    default:
      return rms ? norm_fwd<uint16_t, true>(y, mean, rstd, x, weight, bias, rows, d, eps, stream)
                 : norm_fwd<uint16_t, false>(y, mean, rstd, x, weight, bias, rows, d, eps, stream);
  }
}

int64_t norm_backward_workspace(bool f64, int64_t rows, int64_t d) {
  const int64_t chunks = std::max<int64_t>(param_blocks(rows), kParamChunks);
  return 2 * chunks * d * (f64 ? 8 : 4);
}

void launch_norm_backward(bool rms, DType io, void* gx, void* gweight, void* gbias, const void* g,
                          const void* x, const void* mean, const void* rstd, const void* weight,
                          int64_t rows, int64_t d, void* workspace, StreamHandle stream) {
  if (rows == 0 || d == 0) return;
#define CHORUS_NORM_BWD(T, R) \
  norm_bwd<T, R>(gx, gweight, gbias, g, x, mean, rstd, weight, rows, d, workspace, stream)
  switch (io) {
    case DType::kF32:
      return rms ? CHORUS_NORM_BWD(float, true) : CHORUS_NORM_BWD(float, false);
    case DType::kF64:
      return rms ? CHORUS_NORM_BWD(double, true) : CHORUS_NORM_BWD(double, false);
    default:
      return rms ? CHORUS_NORM_BWD(uint16_t, true) : CHORUS_NORM_BWD(uint16_t, false);
  }
#undef CHORUS_NORM_BWD
}

}  // namespace chorus::cuda
