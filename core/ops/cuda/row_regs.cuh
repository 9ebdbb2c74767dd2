// Register-resident row kernels: layer/RMS norm forward, softmax forward and backward, for rows
// that fit in the registers of one block (up to 8 16-byte vectors per thread, 512 threads:
// 32768 bf16 or 16384 f32 columns). Each thread loads its vectors once, the block reduces with
// warp shuffles, and the outputs are written from the registers: one read and one write of
// every element, no shared-memory row cache and no per-element index arithmetic.
//
// WHY: the shared-memory kernels (norm_kernels.cu, softmax_kernels.cu) reached only 23-46% of
// the device copy bandwidth on the H200 (layer_norm bf16 16384x4096: 988 GB/s), below PyTorch;
// they stay as the path for rows too long for registers and for unaligned rows.
//
// Thread t holds vector i at columns (i * blockDim.x + t) * W .. + W - 1 (W = 16 bytes / element
// size), so each load instruction of a warp covers 512 contiguous bytes.
#pragma once

#include <cstdlib>
#include <type_traits>

#include "core/ops/cuda/row_common.cuh"

namespace chorus::cuda::row_detail {

// Vectors per thread and threads per block for a register-resident row of n elements of T, or
// false when the row is too long. Prefers 128-256 threads with several vectors each (more
// loads in flight per thread) over many threads with one vector.
// The preferred block size; CHORUS_ROW_THREADS (32..512) overrides it, for tuning runs.
inline int64_t preferred_row_threads() {
  static const int64_t value = [] {
    const char* env = std::getenv("CHORUS_ROW_THREADS");
    const int64_t v = env != nullptr ? std::atoll(env) : 256;
    return v >= 32 && v <= 512 ? v : int64_t{256};
  }();
  return value;
}

template <class T>
bool register_row_plan(int64_t n, int* vecs, int* threads, int max_vecs = 8) {
  constexpr int64_t W = Vec16<T>::kWidth;
  for (int64_t limit : {preferred_row_threads(), int64_t{512}}) {
    for (int kv : {1, 2, 4, 8}) {
      if (kv > max_vecs) break;
      int64_t t = (n + W * kv - 1) / (W * kv);
      t = std::max<int64_t>(32, (t + 31) / 32 * 32);
      if (t <= limit) {
        *vecs = kv;
        *threads = static_cast<int>(t);
        return true;
      }
    }
  }
  return false;
}

// Column of vector i of this thread.
template <class T>
__device__ __forceinline__ int64_t reg_col(int i) {
  return (int64_t{i} * blockDim.x + threadIdx.x) * Vec16<T>::kWidth;
}

// W consecutive values of an f32/f64 parameter vector (16-byte aligned) at column j.
template <class A, int W>
__device__ __forceinline__ void load_params(const A* p, int64_t j, A* out) {
#pragma unroll
  for (int k = 0; k < W; k += Vec16<A>::kWidth) Vec16<A>::load(p, j + k, out + k);
}

template <class T, bool kRms, int kVecs>
__global__ void __launch_bounds__(512)
    norm_forward_regs(T* y, Acc<T>* mean_out, Acc<T>* rstd_out, const T* x, const Acc<T>* w,
                      const Acc<T>* b, int64_t rows, int64_t d, Acc<T> eps) {
  using A = Acc<T>;
  constexpr int W = Vec16<T>::kWidth;
  __shared__ A scratch[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    A v[kVecs][W];
    A s = 0;
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      const int64_t j = reg_col<T>(i);
      if (j < d) {
        Vec16<T>::load(x + r * d, j, v[i]);
#pragma unroll
        for (int k = 0; k < W; ++k) s += kRms ? v[i][k] * v[i][k] : v[i][k];
      }
    }
    s = block_sum(s, scratch);
    A mean = 0, var;
    if (kRms) {
      var = s / static_cast<A>(d);
    } else {  // two passes over the registers (mean, then Σ(x - mean)²), as on the CPU
      mean = s / static_cast<A>(d);
      A q = 0;
#pragma unroll
      for (int i = 0; i < kVecs; ++i) {
        if (reg_col<T>(i) < d) {
#pragma unroll
          for (int k = 0; k < W; ++k) q += (v[i][k] - mean) * (v[i][k] - mean);
        }
      }
      var = block_sum(q, scratch) / static_cast<A>(d);
    }
    const A rstd = A(1) / sqrt(var + eps);
    if (threadIdx.x == 0) {
      if (mean_out) mean_out[r] = mean;
      rstd_out[r] = rstd;
    }
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      const int64_t j = reg_col<T>(i);
      if (j >= d) continue;
      A wv[W], bv[W];
      if (w) load_params<A, W>(w, j, wv);
      if (b) load_params<A, W>(b, j, bv);
#pragma unroll
      for (int k = 0; k < W; ++k) {
        A o = (v[i][k] - mean) * rstd;
        if (w) o *= wv[k];
        if (b) o += bv[k];
        v[i][k] = o;
      }
      Vec16<T>::store(y + r * d, j, v[i]);
    }
  }
}

template <class A, int W>
__device__ __forceinline__ void store_params(A* p, int64_t j, const A* in) {
#pragma unroll
  for (int k = 0; k < W; k += Vec16<A>::kWidth) Vec16<A>::store(p, j + k, in + k);
}

// gx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = g·w, x̂ = (x − mean)·rstd (RMS: no mean(ĝ)).
// With `params`, each thread also sums g·x̂ and g over the block's rows for the columns it owns
// (the same columns in every row, so registers suffice) and writes the block's partial row to
// partial_w / partial_b [gridDim.x, d]; sum_partials adds the blocks. Up to 2 vectors per
// thread: g, x̂ and the two partials make four register arrays.
template <class T, bool kRms, int kVecs>
__global__ void __launch_bounds__(512)
    norm_backward_regs(T* gx, Acc<T>* partial_w, Acc<T>* partial_b, const T* g, const T* x,
                       const Acc<T>* mean, const Acc<T>* rstd, const Acc<T>* w, int64_t rows,
                       int64_t d, bool params) {
  using A = Acc<T>;
  constexpr int W = Vec16<T>::kWidth;
  __shared__ A scratch[32];
  A pw[kVecs][W], pb[kVecs][W];
#pragma unroll
  for (int i = 0; i < kVecs; ++i) {
#pragma unroll
    for (int k = 0; k < W; ++k) pw[i][k] = pb[i][k] = A(0);
  }
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const A mu = kRms ? A(0) : mean[r], rs = rstd[r];
    A gv[kVecs][W], xv[kVecs][W];
    A sg = 0, sgx = 0;
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      const int64_t j = reg_col<T>(i);
      if (j >= d) continue;
      Vec16<T>::load(g + r * d, j, gv[i]);
      Vec16<T>::load(x + r * d, j, xv[i]);
      A wv[W];
      if (w) load_params<A, W>(w, j, wv);
#pragma unroll
      for (int k = 0; k < W; ++k) {
        const A xh = (xv[i][k] - mu) * rs;
        if (params) {
          pw[i][k] += gv[i][k] * xh;
          pb[i][k] += gv[i][k];
        }
        const A gw = w ? gv[i][k] * wv[k] : gv[i][k];
        gv[i][k] = gw;
        xv[i][k] = xh;
        sg += gw;
        sgx += gw * xh;
      }
    }
    if (!kRms) sg = block_sum(sg, scratch);
    sgx = block_sum(sgx, scratch);
    if (gx == nullptr) continue;
    const A inv_d = A(1) / static_cast<A>(d);
    const A mg = sg * inv_d, mgx = sgx * inv_d;
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      const int64_t j = reg_col<T>(i);
      if (j >= d) continue;
#pragma unroll
      for (int k = 0; k < W; ++k) {
        gv[i][k] = rs * (kRms ? gv[i][k] - xv[i][k] * mgx : gv[i][k] - mg - xv[i][k] * mgx);
      }
      Vec16<T>::store(gx + r * d, j, gv[i]);
    }
  }
  if (!params) return;
#pragma unroll
  for (int i = 0; i < kVecs; ++i) {
    const int64_t j = reg_col<T>(i);
    if (j >= d) continue;
    store_params<A, W>(partial_w + blockIdx.x * d, j, pw[i]);
    store_params<A, W>(partial_b + blockIdx.x * d, j, pb[i]);
  }
}

template <class T, int kVecs>
__global__ void __launch_bounds__(512)
    softmax_forward_regs(T* y, const T* x, int64_t rows, int64_t n, bool log) {
  using A = Acc<T>;
  constexpr int W = Vec16<T>::kWidth;
  __shared__ A scratch[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    A v[kVecs][W];
    A m = -INFINITY;
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      const int64_t j = reg_col<T>(i);
      if (j < n) {
        Vec16<T>::load(x + r * n, j, v[i]);
#pragma unroll
        for (int k = 0; k < W; ++k) m = fmax(m, v[i][k]);
      }
    }
    m = block_max(m, scratch);
    A s = 0;
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      if (reg_col<T>(i) < n) {
#pragma unroll
        for (int k = 0; k < W; ++k) s += exp(v[i][k] - m);
      }
    }
    s = block_sum(s, scratch);
    const A lse = m + ::log(s), inv = A(1) / s;
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      const int64_t j = reg_col<T>(i);
      if (j >= n) continue;
#pragma unroll
      for (int k = 0; k < W; ++k) v[i][k] = log ? v[i][k] - lse : exp(v[i][k] - m) * inv;
      Vec16<T>::store(y + r * n, j, v[i]);
    }
  }
}

// gx = y·(g − Σ g·y) (softmax) or g − exp(y)·Σ g (log_softmax).
template <class T, int kVecs>
__global__ void __launch_bounds__(512)
    softmax_backward_regs(T* gx, const T* g, const T* y, int64_t rows, int64_t n, bool log) {
  using A = Acc<T>;
  constexpr int W = Vec16<T>::kWidth;
  __shared__ A scratch[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    A gv[kVecs][W], yv[kVecs][W];
    A s = 0;
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      const int64_t j = reg_col<T>(i);
      if (j < n) {
        Vec16<T>::load(g + r * n, j, gv[i]);
        Vec16<T>::load(y + r * n, j, yv[i]);
#pragma unroll
        for (int k = 0; k < W; ++k) s += log ? gv[i][k] : gv[i][k] * yv[i][k];
      }
    }
    s = block_sum(s, scratch);
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      const int64_t j = reg_col<T>(i);
      if (j >= n) continue;
#pragma unroll
      for (int k = 0; k < W; ++k) {
        gv[i][k] = log ? gv[i][k] - exp(yv[i][k]) * s : yv[i][k] * (gv[i][k] - s);
      }
      Vec16<T>::store(gx + r * n, j, gv[i]);
    }
  }
}

// Calls f(std::integral_constant<int, V>{}) for the planned vector count V (1, 2, 4 or 8, at
// most kMax: only those kernels are instantiated).
template <int kMax = 8, class F>
void with_vecs(int vecs, F f) {
  if (vecs <= 1) return f(std::integral_constant<int, 1>{});
  if constexpr (kMax >= 2) {
    if (vecs == 2) return f(std::integral_constant<int, 2>{});
  }
  if constexpr (kMax >= 4) {
    if (vecs == 4) return f(std::integral_constant<int, 4>{});
  }
  if constexpr (kMax >= 8) return f(std::integral_constant<int, 8>{});
}

}  // namespace chorus::cuda::row_detail
