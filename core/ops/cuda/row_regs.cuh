// Register-resident row kernels: layer/RMS norm forward and backward, softmax forward and
// backward, for rows whose 16-byte vectors fit in the registers of one group of threads (a
// power of two from 1 to 512 threads, up to 8 vectors per thread: 32768 bf16 or 16384 f32
// columns). Each thread loads its vectors once, the group reduces with warp shuffles (and
// shared memory when it spans several warps), and the outputs are written from the registers:
// one read and one write of every element.
//
// Short rows share a block: a group of up to 32 lanes per row, several rows per block, no
// block-wide barrier. Longer rows take a block each (the group is the block). The grid is
// persistent (as many blocks as fit on the GPU at once, each looping over its rows), and every
// group loads its next row into spare registers (when there are enough: up to 32 values per
// thread forward, 16 per input backward) before it reduces the current one, so the loads
// of one row overlap the reductions and stores of the previous one; the streamed rows bypass
// L1 so that the weights and biases, re-read for every row, stay there.
//
// WHY: the one-row-per-block version reached 37-67% of the device copy bandwidth on the H200
// (layer_norm bf16 16384x4096 2208 GB/s, softmax 65536x1024 1977 GB/s): with one block per row
// a block's loads stop while it reduces, and 128-thread blocks for 1024-wide rows paid two
// block-wide barriers per reduction for 16 bytes in flight per thread. This version: 57-85% on
// the benchmark's shapes (docs/gpu-benchmarks.md, run 5).
//
// Thread `lane` of a group of g holds vector i at columns (i * g + lane) * W .. + W - 1
// (W = 16 bytes / element size), so each load instruction of a warp covers 512 contiguous bytes
// (groups of 32 or more threads).
#pragma once

#include <cstdlib>
#include <map>
#include <mutex>
#include <type_traits>
#include <utility>

#include "core/ops/cuda/row_common.cuh"

namespace chorus::cuda::row_detail {

// ---- Tuning knobs (environment, read once; for tuning runs only) ----------------------------

inline int env_knob(const char* name, int lo, int hi, int fallback) {
  const char* env = std::getenv(name);
  if (env == nullptr || *env == '\0') return fallback;
  const int v = std::atoi(env);
  return v >= lo && v <= hi ? v : fallback;
}
// Threads per block when several short rows share a block (a power of two, 32..512).
inline int row_block_threads() {
  static const int value = [] {
    const int v = env_knob("CHORUS_ROW_THREADS", 32, 512, 256);
    return (v & (v - 1)) == 0 ? v : 256;
  }();
  return value;
}
// Vectors per thread the planner aims for (0: each kernel's default).
inline int row_vecs_knob() {
  static const int value = env_knob("CHORUS_ROW_VECS", 1, 8, 0);
  return value;
}
// Load the next row while reducing the current one (1) or not (0).
inline bool row_prefetch() {
  static const bool value = env_knob("CHORUS_ROW_PREFETCH", 0, 1, 1) != 0;
  return value;
}
// Resident blocks per SM times this is the persistent grid; 0: one block per row group.
inline int row_waves() {
  static const int value = env_knob("CHORUS_ROW_WAVES", 0, 64, 1);
  return value;
}

// ---- Plan and grid ---------------------------------------------------------------------------

struct RowPlan {
  int vecs = 0;     // 16-byte vectors per thread: 1, 2, 4 or 8
  int group = 0;    // threads per row: a power of two, 1..512
  int threads = 0;  // threads per block: the group (group >= 64) or several groups
  int rows_per_block() const { return threads / group; }
};

// The smallest power-of-two group that covers a row of n elements with `target` vectors per
// thread (at most 512 threads), then the fewest vectors per thread that cover it with that
// group. False when the row needs more than `max_vecs` vectors per thread.
template <class T>
bool row_plan(int64_t n, int target, int max_vecs, RowPlan* plan) {
  constexpr int64_t W = Vec16<T>::kWidth;
  const int64_t nvec = (n + W - 1) / W;
  if (nvec <= 0) return false;
  const int want = row_vecs_knob() > 0 ? std::min(row_vecs_knob(), max_vecs) : target;
  int64_t g = 1;
  while (g < 512 && g * want < nvec) g *= 2;
  int64_t v = 1;
  while (v < 8 && g * v < nvec) v *= 2;
  if (g * v < nvec || v > max_vecs) return false;
  plan->vecs = static_cast<int>(v);
  plan->group = static_cast<int>(g);
  plan->threads = g >= 64 ? static_cast<int>(g) : row_block_threads();
  return true;
}

// Blocks of `threads` threads of `kernel` that fit on one SM (cached per kernel and size).
inline int resident_blocks(const void* kernel, int threads) {
  static std::mutex mu;
  static std::map<std::pair<const void*, int>, int> cache;
  std::lock_guard<std::mutex> lock(mu);
  const auto key = std::make_pair(kernel, threads);
  const auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  int n = 0;
  if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, kernel, threads, 0) != cudaSuccess) {
    cudaGetLastError();
    n = 1;
  }
  n = std::max(n, 1);
  cache.emplace(key, n);
  return n;
}

// The persistent grid: enough blocks for every row group, at most what fits on the GPU.
template <class K>
unsigned row_grid(K kernel, const RowPlan& plan, int64_t rows) {
  const int64_t groups = (rows + plan.rows_per_block() - 1) / plan.rows_per_block();
  int64_t blocks = std::clamp<int64_t>(groups, 1, 65535 * 16);
  if (row_waves() > 0) {
    const int64_t cap =
        int64_t{resident_blocks(reinterpret_cast<const void*>(kernel), plan.threads)} * sm_count() *
        row_waves();
    blocks = std::min(blocks, cap);
  }
  return static_cast<unsigned>(blocks);
}

// ---- Device helpers ---------------------------------------------------------------------------

// 16 bytes of a streamed row, not kept in L1 (it is read once; the parameters stay there).
__device__ __forceinline__ uint4 load_stream(const void* p) {
  uint4 r;
  asm volatile("ld.global.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];"
               : "=r"(r.x), "=r"(r.y), "=r"(r.z), "=r"(r.w)
               : "l"(p));
  return r;
}

// 16 raw bytes <-> W values of the compute type.
template <class T>
struct Pack;
template <>
struct Pack<uint16_t> {
  static constexpr int kWidth = 8;
  __device__ static void unpack(const uint4& r, float* out) {
    const uint32_t w[4] = {r.x, r.y, r.z, r.w};
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      out[2 * k] = __uint_as_float(w[k] << 16);
      out[2 * k + 1] = __uint_as_float(w[k] & 0xffff0000u);
    }
  }
  // Round half to even (one cvt per pair); a NaN stays a NaN.
  __device__ static uint32_t pack2(float lo, float hi) {
    uint32_t r;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
  }
  __device__ static uint4 pack(const float* in) {
    return make_uint4(pack2(in[0], in[1]), pack2(in[2], in[3]), pack2(in[4], in[5]),
                      pack2(in[6], in[7]));
  }
};
template <>
struct Pack<float> {
  static constexpr int kWidth = 4;
  __device__ static void unpack(const uint4& r, float* out) {
    out[0] = __uint_as_float(r.x);
    out[1] = __uint_as_float(r.y);
    out[2] = __uint_as_float(r.z);
    out[3] = __uint_as_float(r.w);
  }
  __device__ static uint4 pack(const float* in) {
    return make_uint4(__float_as_uint(in[0]), __float_as_uint(in[1]), __float_as_uint(in[2]),
                      __float_as_uint(in[3]));
  }
};
template <>
struct Pack<double> {
  static constexpr int kWidth = 2;
  __device__ static void unpack(const uint4& r, double* out) {
    out[0] = __hiloint2double(static_cast<int>(r.y), static_cast<int>(r.x));
    out[1] = __hiloint2double(static_cast<int>(r.w), static_cast<int>(r.z));
  }
  __device__ static uint4 pack(const double* in) {
    return make_uint4(
        static_cast<uint32_t>(__double2loint(in[0])), static_cast<uint32_t>(__double2hiint(in[0])),
        static_cast<uint32_t>(__double2loint(in[1])), static_cast<uint32_t>(__double2hiint(in[1])));
  }
};

template <class T>
__device__ __forceinline__ void store16(T* p, const uint4& v) {
  *reinterpret_cast<uint4*>(p) = v;
}

// e^x: f32 through ex2.approx (relative error about 2^-22; flushes results below 2^-126 to
// zero), f64 exact.
__device__ __forceinline__ float fast_exp(float x) {
  float r;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(x * 1.4426950408889634f));
  return r;
}
__device__ __forceinline__ double fast_exp(double x) { return exp(x); }

// W consecutive values of an f32/f64 parameter vector (16-byte aligned) at column j, through
// the read-only cache.
template <class A, int W>
__device__ __forceinline__ void load_params(const A* p, int64_t j, A* out) {
  if constexpr (std::is_same_v<A, float>) {
#pragma unroll
    for (int k = 0; k < W; k += 4) {
      const float4 v = __ldg(reinterpret_cast<const float4*>(p + j + k));
      out[k] = v.x;
      out[k + 1] = v.y;
      out[k + 2] = v.z;
      out[k + 3] = v.w;
    }
  } else {
#pragma unroll
    for (int k = 0; k < W; k += 2) {
      const double2 v = __ldg(reinterpret_cast<const double2*>(p + j + k));
      out[k] = v.x;
      out[k + 1] = v.y;
    }
  }
}

template <class A, int W>
__device__ __forceinline__ void store_params(A* p, int64_t j, const A* in) {
#pragma unroll
  for (int k = 0; k < W; k += Vec16<A>::kWidth) Vec16<A>::store(p, j + k, in + k);
}

// Where this thread sits: lane within its row group, the group within the block.
struct RowGroup {
  int g, lane, idx, rpb;
  __device__ explicit RowGroup(int group)
      : g(group),
        lane(static_cast<int>(threadIdx.x) & (group - 1)),
        idx(static_cast<int>(threadIdx.x) / group),
        rpb(static_cast<int>(blockDim.x) / group) {}
  template <int W>
  __device__ int64_t col(int i) const {
    return (int64_t{i} * g + lane) * W;
  }
  // First row of this block's groups, and the step between a group's rows.
  __device__ int64_t begin() const { return int64_t{blockIdx.x} * rpb; }
  __device__ int64_t stride() const { return int64_t{gridDim.x} * rpb; }
};

// Reductions over a row group. Groups of up to 32 lanes reduce with shuffles inside their warp;
// a larger group is the whole block and adds a round through `scratch` (two buffers of 32,
// used in turn: `phase` flips at each call, so one barrier per reduction suffices).
template <class A>
__device__ __forceinline__ A group_sum(A v, int g, A (*scratch)[32], int& phase) {
  const int w = g < 32 ? g : 32;
  for (int o = w >> 1; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  if (g <= 32) return v;
  A* s = scratch[phase];
  phase ^= 1;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) s[warp] = v;
  __syncthreads();
  return warp_sum(lane < (g >> 5) ? s[lane] : A(0));
}
template <class A>
__device__ __forceinline__ A nan_max(A a, A b) {
  return (b != b || b > a) ? b : a;
}
template <class A>
__device__ __forceinline__ A group_max(A v, int g, A (*scratch)[32], int& phase) {
  const int w = g < 32 ? g : 32;
  for (int o = w >> 1; o > 0; o >>= 1) v = nan_max(v, __shfl_xor_sync(0xffffffffu, v, o));
  if (g <= 32) return v;
  A* s = scratch[phase];
  phase ^= 1;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) s[warp] = v;
  __syncthreads();
  return warp_max(lane < (g >> 5) ? s[lane] : A(-INFINITY));
}

// Loads this thread's vectors of row r (when r < rows) into raw.
template <class T, int kVecs>
__device__ __forceinline__ void fetch_row(uint4 (&raw)[kVecs], const T* base, int64_t r,
                                          int64_t rows, int64_t n, const RowGroup& rg) {
  if (r >= rows) return;
  const T* row = base + r * n;
#pragma unroll
  for (int i = 0; i < kVecs; ++i) {
    const int64_t j = rg.col<Pack<T>::kWidth>(i);
    if (j < n) raw[i] = load_stream(row + j);
  }
}

// ---- Kernels ----------------------------------------------------------------------------------
//
// Every thread runs the same number of loop iterations (rows are taken per block, r = rb +
// group index; a group past the last row computes on zeros and stores nothing), so the
// shuffles and barriers of the reductions always have their whole warp / block.

template <class T, bool kRms, int kVecs>
__global__ void __launch_bounds__(512)
    norm_forward_regs(T* y, Acc<T>* mean_out, Acc<T>* rstd_out, const T* x, const Acc<T>* w,
                      const Acc<T>* b, int64_t rows, int64_t d, Acc<T> eps, int group,
                      bool prefetch) {
  using A = Acc<T>;
  constexpr int W = Pack<T>::kWidth;
  __shared__ A scratch[2][32];
  int phase = 0;
  const RowGroup rg(group);
  uint4 raw[kVecs];
#pragma unroll
  for (int i = 0; i < kVecs; ++i) raw[i] = make_uint4(0, 0, 0, 0);
  int64_t rb = rg.begin();
  if (prefetch) fetch_row(raw, x, rb + rg.idx, rows, d, rg);
  for (; rb < rows; rb += rg.stride()) {
    const int64_t r = rb + rg.idx;
    const bool valid = r < rows;
    if (!prefetch) fetch_row(raw, x, r, rows, d, rg);
    A v[kVecs][W];
#pragma unroll
    for (int i = 0; i < kVecs; ++i) Pack<T>::unpack(raw[i], v[i]);
    if (prefetch) fetch_row(raw, x, r + rg.stride(), rows, d, rg);
    A s = 0;
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      if (rg.col<W>(i) < d) {
#pragma unroll
        for (int k = 0; k < W; ++k) s += kRms ? v[i][k] * v[i][k] : v[i][k];
      }
    }
    s = group_sum(s, group, scratch, phase);
    A mean = 0, var;
    if (kRms) {
      var = s / static_cast<A>(d);
    } else {  // two passes over the registers (mean, then Σ(x - mean)²), as on the CPU
      mean = s / static_cast<A>(d);
      A q = 0;
#pragma unroll
      for (int i = 0; i < kVecs; ++i) {
        if (rg.col<W>(i) < d) {
#pragma unroll
          for (int k = 0; k < W; ++k) q += (v[i][k] - mean) * (v[i][k] - mean);
        }
      }
      var = group_sum(q, group, scratch, phase) / static_cast<A>(d);
    }
    if (!valid) continue;
    const A rstd = A(1) / sqrt(var + eps);
    if (rg.lane == 0) {
      if (mean_out) mean_out[r] = mean;
      rstd_out[r] = rstd;
    }
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      const int64_t j = rg.col<W>(i);
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
      store16(y + r * d + j, Pack<T>::pack(v[i]));
    }
  }
}

// gx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = g·w, x̂ = (x − mean)·rstd (RMS: no mean(ĝ)).
// With `params`, each thread also sums g·x̂ and g over its group's rows for the columns it owns
// (the same columns in every row, so registers suffice) and the group writes its partial row to
// partial_w / partial_b [gridDim.x * rows per block, d]; sum_partials adds them.
template <class T, bool kRms, int kVecs>
__global__ void __launch_bounds__(512)
    norm_backward_regs(T* gx, Acc<T>* partial_w, Acc<T>* partial_b, const T* g, const T* x,
                       const Acc<T>* mean, const Acc<T>* rstd, const Acc<T>* w, int64_t rows,
                       int64_t d, bool params, int group, bool prefetch) {
  using A = Acc<T>;
  constexpr int W = Pack<T>::kWidth;
  __shared__ A scratch[2][32];
  int phase = 0;
  const RowGroup rg(group);
  A pw[kVecs][W], pb[kVecs][W];
  uint4 rg_[kVecs], rx[kVecs];
#pragma unroll
  for (int i = 0; i < kVecs; ++i) {
    rg_[i] = rx[i] = make_uint4(0, 0, 0, 0);
#pragma unroll
    for (int k = 0; k < W; ++k) pw[i][k] = pb[i][k] = A(0);
  }
  int64_t rb = rg.begin();
  if (prefetch) {
    fetch_row(rg_, g, rb + rg.idx, rows, d, rg);
    fetch_row(rx, x, rb + rg.idx, rows, d, rg);
  }
  for (; rb < rows; rb += rg.stride()) {
    const int64_t r = rb + rg.idx;
    const bool valid = r < rows;
    if (!prefetch) {
      fetch_row(rg_, g, r, rows, d, rg);
      fetch_row(rx, x, r, rows, d, rg);
    }
    A gv[kVecs][W], xv[kVecs][W];
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      Pack<T>::unpack(rg_[i], gv[i]);
      Pack<T>::unpack(rx[i], xv[i]);
    }
    if (prefetch) {
      fetch_row(rg_, g, r + rg.stride(), rows, d, rg);
      fetch_row(rx, x, r + rg.stride(), rows, d, rg);
    }
    const A mu = kRms || !valid ? A(0) : mean[r], rs = valid ? rstd[r] : A(0);
    A sg = 0, sgx = 0;
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      const int64_t j = rg.col<W>(i);
      if (j >= d || !valid) continue;
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
    if (gx == nullptr) continue;  // uniform: the reductions below are not needed
    if (!kRms) sg = group_sum(sg, group, scratch, phase);
    sgx = group_sum(sgx, group, scratch, phase);
    if (!valid) continue;
    const A inv_d = A(1) / static_cast<A>(d);
    const A mg = sg * inv_d, mgx = sgx * inv_d;
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      const int64_t j = rg.col<W>(i);
      if (j >= d) continue;
#pragma unroll
      for (int k = 0; k < W; ++k) {
        gv[i][k] = rs * (kRms ? gv[i][k] - xv[i][k] * mgx : gv[i][k] - mg - xv[i][k] * mgx);
      }
      store16(gx + r * d + j, Pack<T>::pack(gv[i]));
    }
  }
  if (!params) return;
  const int64_t p = int64_t{blockIdx.x} * rg.rpb + rg.idx;
#pragma unroll
  for (int i = 0; i < kVecs; ++i) {
    const int64_t j = rg.col<W>(i);
    if (j >= d) continue;
    store_params<A, W>(partial_w + p * d, j, pw[i]);
    store_params<A, W>(partial_b + p * d, j, pb[i]);
  }
}

template <class T, int kVecs>
__global__ void __launch_bounds__(512)
    softmax_forward_regs(T* y, const T* x, int64_t rows, int64_t n, bool log, int group,
                         bool prefetch) {
  using A = Acc<T>;
  constexpr int W = Pack<T>::kWidth;
  __shared__ A scratch[2][32];
  int phase = 0;
  const RowGroup rg(group);
  uint4 raw[kVecs];
#pragma unroll
  for (int i = 0; i < kVecs; ++i) raw[i] = make_uint4(0, 0, 0, 0);
  int64_t rb = rg.begin();
  if (prefetch) fetch_row(raw, x, rb + rg.idx, rows, n, rg);
  for (; rb < rows; rb += rg.stride()) {
    const int64_t r = rb + rg.idx;
    const bool valid = r < rows;
    if (!prefetch) fetch_row(raw, x, r, rows, n, rg);
    A v[kVecs][W];
#pragma unroll
    for (int i = 0; i < kVecs; ++i) Pack<T>::unpack(raw[i], v[i]);
    if (prefetch) fetch_row(raw, x, r + rg.stride(), rows, n, rg);
    A m = -INFINITY;
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      if (rg.col<W>(i) < n) {
#pragma unroll
        for (int k = 0; k < W; ++k) m = fmax(m, v[i][k]);
      }
    }
    m = group_max(m, group, scratch, phase);
    A s = 0;
    if (log) {
#pragma unroll
      for (int i = 0; i < kVecs; ++i) {
        if (rg.col<W>(i) < n) {
#pragma unroll
          for (int k = 0; k < W; ++k) s += fast_exp(v[i][k] - m);
        }
      }
    } else {  // keep e^(x - m) for the output
#pragma unroll
      for (int i = 0; i < kVecs; ++i) {
        if (rg.col<W>(i) < n) {
#pragma unroll
          for (int k = 0; k < W; ++k) {
            v[i][k] = fast_exp(v[i][k] - m);
            s += v[i][k];
          }
        }
      }
    }
    s = group_sum(s, group, scratch, phase);
    if (!valid) continue;
    const A lse = m + ::log(s), inv = A(1) / s;
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      const int64_t j = rg.col<W>(i);
      if (j >= n) continue;
#pragma unroll
      for (int k = 0; k < W; ++k) v[i][k] = log ? v[i][k] - lse : v[i][k] * inv;
      store16(y + r * n + j, Pack<T>::pack(v[i]));
    }
  }
}

// gx = y·(g − Σ g·y) (softmax) or g − exp(y)·Σ g (log_softmax).
template <class T, int kVecs>
__global__ void __launch_bounds__(512)
    softmax_backward_regs(T* gx, const T* g, const T* y, int64_t rows, int64_t n, bool log,
                          int group, bool prefetch) {
  using A = Acc<T>;
  constexpr int W = Pack<T>::kWidth;
  __shared__ A scratch[2][32];
  int phase = 0;
  const RowGroup rg(group);
  uint4 rgv[kVecs], ryv[kVecs];
#pragma unroll
  for (int i = 0; i < kVecs; ++i) rgv[i] = ryv[i] = make_uint4(0, 0, 0, 0);
  int64_t rb = rg.begin();
  if (prefetch) {
    fetch_row(rgv, g, rb + rg.idx, rows, n, rg);
    fetch_row(ryv, y, rb + rg.idx, rows, n, rg);
  }
  for (; rb < rows; rb += rg.stride()) {
    const int64_t r = rb + rg.idx;
    const bool valid = r < rows;
    if (!prefetch) {
      fetch_row(rgv, g, r, rows, n, rg);
      fetch_row(ryv, y, r, rows, n, rg);
    }
    A gv[kVecs][W], yv[kVecs][W];
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      Pack<T>::unpack(rgv[i], gv[i]);
      Pack<T>::unpack(ryv[i], yv[i]);
    }
    if (prefetch) {
      fetch_row(rgv, g, r + rg.stride(), rows, n, rg);
      fetch_row(ryv, y, r + rg.stride(), rows, n, rg);
    }
    A s = 0;
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      if (rg.col<W>(i) < n) {
#pragma unroll
        for (int k = 0; k < W; ++k) s += log ? gv[i][k] : gv[i][k] * yv[i][k];
      }
    }
    s = group_sum(s, group, scratch, phase);
    if (!valid) continue;
#pragma unroll
    for (int i = 0; i < kVecs; ++i) {
      const int64_t j = rg.col<W>(i);
      if (j >= n) continue;
#pragma unroll
      for (int k = 0; k < W; ++k) {
        gv[i][k] = log ? gv[i][k] - fast_exp(yv[i][k]) * s : yv[i][k] * (gv[i][k] - s);
      }
      store16(gx + r * n + j, Pack<T>::pack(gv[i]));
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
