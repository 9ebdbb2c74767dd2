// Layer norm and RMS norm, forward and backward. Rows of 16-byte-aligned vectors that fit in
// registers (row_regs.cuh: up to 32768 bf16 columns forward, 8192 backward) take the register
// kernels launched here; the rest take the kernels of this file: one block per row, the row read
// from global memory once and kept in shared memory when it fits; the backward pass also gathers
// the weight/bias gradient partials (see norm_backward_input). bf16 rows (uint16_t bits) are
// widened on load and rounded once on store.
#include "core/ops/cuda/row_common.cuh"
#include "core/ops/cuda/row_launch.h"
#include "core/ops/cuda/row_regs.cuh"

namespace chorus::cuda {
namespace {

using namespace row_detail;

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

// Column sums of the partial rows: 32 columns per block, 16 lanes per column each adding every
// 16th partial row, then the 16 sums in order through shared memory (deterministic). One
// thread per column looping over hundreds of partial rows was latency-bound.
template <class A>
__global__ void __launch_bounds__(512) sum_partials(A* out_w, A* out_b, const A* partial_w,
                                                    const A* partial_b, int chunks, int64_t d) {
  __shared__ A sw[16][33], sb[16][33];
  const int64_t j = blockIdx.x * int64_t{32} + threadIdx.x;
  A aw = 0, ab = 0;
  if (j < d) {
#pragma unroll 4
    for (int c = threadIdx.y; c < chunks; c += 16) {
      aw += partial_w[c * d + j];
      ab += partial_b[c * d + j];
    }
  }
  sw[threadIdx.y][threadIdx.x] = aw;
  sb[threadIdx.y][threadIdx.x] = ab;
  __syncthreads();
  if (threadIdx.y != 0 || j >= d) return;
  for (int k = 1; k < 16; ++k) {
    aw += sw[k][threadIdx.x];
    ab += sb[k][threadIdx.x];
  }
  if (out_w) out_w[j] = aw;
  if (out_b) out_b[j] = ab;
}

template <class A>
void launch_sum_partials(void* gw, void* gb, const A* pw, const A* pb, int64_t chunks, int64_t d,
                         StreamHandle stream) {
  sum_partials<A><<<static_cast<unsigned>((d + 31) / 32), dim3(32, 16), 0, stream>>>(
      static_cast<A*>(gw), static_cast<A*>(gb), pw, pb, static_cast<int>(chunks), d);
}

template <class T, bool kRms>
void norm_fwd(void* y, void* mean, void* rstd, const void* x, const void* w, const void* b,
              int64_t rows, int64_t d, double eps, StreamHandle stream) {
  using A = Acc<T>;
  RowPlan plan;
  if (vectorizable<T>(d, {x, y}) && vectorizable<A>(d, {w, b}) &&
      row_plan<T>(d, /*target=*/kRms ? 2 : 4, /*max_vecs=*/8, &plan)) {
    with_vecs(plan.vecs, [&](auto kv) {
      constexpr int kV = decltype(kv)::value;
      auto kernel = norm_forward_regs<T, kRms, kV>;
      const bool prefetch = row_prefetch() && kV * Pack<T>::kWidth <= 32;
      kernel<<<row_grid(kernel, plan, rows), plan.threads, 0, stream>>>(
          static_cast<T*>(y), static_cast<A*>(mean), static_cast<A*>(rstd),
          static_cast<const T*>(x), static_cast<const A*>(w), static_cast<const A*>(b), rows, d,
          static_cast<A>(eps), plan.group, prefetch);
    });
    return;
  }
  const size_t bytes = d * sizeof(A);
  const bool cache = bytes <= kMaxCacheBytes;
  allow_smem(norm_forward<T, kRms>, cache ? bytes : 0);
  const bool vec = vectorizable<T>(d, {x, y});
  norm_forward<T, kRms><<<row_blocks(rows), row_threads(d), cache ? bytes : 0, stream>>>(
      static_cast<T*>(y), static_cast<A*>(mean), static_cast<A*>(rstd), static_cast<const T*>(x),
      static_cast<const A*>(w), static_cast<const A*>(b), rows, d, static_cast<A>(eps), cache, vec);
}

// Blocks of the fused parameter-gradient path of the shared-memory kernel: enough to fill the
// GPU, few enough that the partial rows (blocks × d) stay small next to the tensors.
int64_t param_blocks(int64_t rows) { return std::clamp<int64_t>(rows, 1, 2 * sm_count()); }

// Partial rows of the register kernel's parameter gradients: at least two per SM, more for many
// rows (each group keeps its own, so more groups in flight cost more partial rows to add up).
int64_t param_rows_cap(int64_t rows) {
  return std::clamp<int64_t>(std::max<int64_t>(2 * sm_count(), rows / 32), 1, rows);
}

template <class T, bool kRms>
void norm_bwd(void* gx, void* gw, void* gb, const void* g, const void* x, const void* mean,
              const void* rstd, const void* w, int64_t rows, int64_t d, void* workspace,
              StreamHandle stream) {
  using A = Acc<T>;
  const bool params = gw != nullptr || gb != nullptr;
  RowPlan plan;
  if (vectorizable<T>(d, {gx, g, x}) && vectorizable<A>(d, {w}) &&
      row_plan<T>(d, /*target=*/2, /*max_vecs=*/2, &plan)) {
    A* pw = static_cast<A*>(workspace);
    int64_t partial_rows = 0;
    with_vecs<2>(plan.vecs, [&](auto kv) {
      constexpr int kV = decltype(kv)::value;
      auto kernel = norm_backward_regs<T, kRms, kV>;
      int64_t blocks = row_grid(kernel, plan, rows);
      if (params) {  // within norm_backward_workspace: see there
        blocks = std::clamp<int64_t>(param_rows_cap(rows) / plan.rows_per_block(), 1, blocks);
      }
      partial_rows = blocks * plan.rows_per_block();
      A* pb = pw + partial_rows * d;
      const bool prefetch = row_prefetch() && kV * Pack<T>::kWidth <= 16;
      kernel<<<static_cast<unsigned>(blocks), plan.threads, 0, stream>>>(
          static_cast<T*>(gx), pw, pb, static_cast<const T*>(g), static_cast<const T*>(x),
          static_cast<const A*>(mean), static_cast<const A*>(rstd), static_cast<const A*>(w), rows,
          d, params, plan.group, prefetch);
    });
    if (params) launch_sum_partials<A>(gw, gb, pw, pw + partial_rows * d, partial_rows, d, stream);
    return;
  }
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
  launch_sum_partials<A>(gw, gb, pw, pb, chunks, d, stream);
}

}  // namespace

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
  // The shared-memory kernel: param_blocks or kParamChunks partial rows. The register kernel:
  // at most param_rows_cap, or one block's groups when a block holds several short rows
  // (rows of at most 512 elements, at most 512 groups).
  const int64_t chunks =
      std::max({param_blocks(rows), param_rows_cap(rows), int64_t{kParamChunks}});
  return 2 * std::max(chunks * d, int64_t{512} * 512) * (f64 ? 8 : 4);
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
