// Attention for short sequences (Lq, Lk <= 64, head dims <= 64): one thread block per
// (batch, head), with that head's K and V (and, backward, Q, dO and the probability and score
// gradient tiles) in shared memory.
//
// WHY: f32 attention never reaches cuDNN's fused kernels (they take bf16/f16), and the
// warp-per-row fallback reloads every key from global memory for every query and accumulates
// dK/dV with atomics. The encoders of a Fashion-MNIST alignment (50 image tokens, head dim 32;
// 48 text tokens, head dim 64; 2,000-4,000 heads per batch) spent ~40 ms of each ~70 ms H200
// step there (CHORUS_OP_PROFILE=sync). Here every operand is read from global memory once per
// block, and the backward pass writes dQ, dK and dV directly: no atomics, so the result does not
// depend on scheduling. Same contract as attention_fallback.h (masks, zero rows, +inf lse).
#include <atomic>
#include <cmath>

#include "core/ops/cuda/dnn/attention_common.cuh"

namespace chorus::cuda::dnn {
namespace {

__device__ inline int64_t at(const AttentionRows& r, int64_t b, int64_t h, int64_t l) {
  return b * r.sb + h * r.sh + l * r.sl;
}

// rows x cols of head (b, h) of `src` into a shared tile with row pitch cols + 1 (an odd pitch
// keeps column walks across rows free of bank conflicts).
template <class T>
__device__ void load_tile(float* tile, const AttentionRows& r, int64_t b, int64_t h, int rows,
                          int cols) {
  const T* base = static_cast<const T*>(r.base);
  for (int idx = threadIdx.x; idx < rows * cols; idx += blockDim.x) {
    const int i = idx / cols, c = idx - i * cols;
    tile[i * (cols + 1) + c] = load(base, at(r, b, h, i) + c);
  }
}

constexpr int kForwardThreads = 128, kBackwardThreads = 256;

template <class T>
__global__ void __launch_bounds__(kForwardThreads)
    small_forward(FallbackAttention p, AttentionRows q, AttentionRows k, AttentionRows v, T* out,
                  float* lse) {
  extern __shared__ float sm[];
  const int lq = static_cast<int>(p.lq), lk = static_cast<int>(p.lk);
  const int d = static_cast<int>(p.d), dv = static_cast<int>(p.dv);
  float* ks = sm;
  float* vs = ks + lk * (d + 1);
  float* scratch = vs + lk * (dv + 1);
  const int64_t bh = blockIdx.x, bb = bh / p.h, hh = bh - bb * p.h;
  load_tile<T>(ks, k, bb, hh, lk, d);
  load_tile<T>(vs, v, bb, hh, lk, dv);
  __syncthreads();
  const int warp = threadIdx.x / 32, lane = threadIdx.x & 31;
  float* qrow = scratch + warp * (d + lk);
  float* prob = qrow + d;
  const T* qb = static_cast<const T*>(q.base);
  for (int i = warp; i < lq; i += kForwardThreads / 32) {
    for (int c = lane; c < d; c += 32) qrow[c] = load(qb, at(q, bb, hh, i) + c);
    __syncwarp();
    float s[2], m = -INFINITY;
    for (int t = 0; t < 2; ++t) {
      const int j = lane + 32 * t;
      s[t] = -INFINITY;
      if (j < lk && visible(p, bb, i, j)) {
        float acc = 0.f;
        for (int c = 0; c < d; ++c) acc += qrow[c] * ks[j * (d + 1) + c];
        s[t] = acc * p.scale;
      }
      m = fmaxf(m, s[t]);
    }
    m = warp_max(m);
    float l = 0.f;
    for (int t = 0; t < 2; ++t) {
      const int j = lane + 32 * t;
      const float e = s[t] == -INFINITY ? 0.f : expf(s[t] - m);
      l += e;
      if (j < lk) prob[j] = e;
    }
    l = warp_sum(l);
    __syncwarp();
    const float inv = l > 0.f ? 1.f / l : 0.f;
    const int64_t row = bh * lq + i;
    for (int c = lane; c < dv; c += 32) {
      float acc = 0.f;
      for (int j = 0; j < lk; ++j) acc += prob[j] * vs[j * (dv + 1) + c];
      store(out, row * dv + c, acc * inv);
    }
    if (lane == 0) lse[row] = l > 0.f ? m + logf(l) : INFINITY;
    __syncwarp();  // qrow and prob are rewritten by the next row
  }
}

template <class T>
__global__ void __launch_bounds__(kBackwardThreads)
    small_backward(FallbackAttention p, AttentionRows q, AttentionRows k, AttentionRows v,
                   AttentionRows o, AttentionRows dout, const float* lse, T* dq, T* dk, T* dv) {
  extern __shared__ float sm[];
  const int lq = static_cast<int>(p.lq), lk = static_cast<int>(p.lk);
  const int d = static_cast<int>(p.d), dvn = static_cast<int>(p.dv);
  float* qs = sm;                    // [lq][d + 1]
  float* ks = qs + lq * (d + 1);     // [lk][d + 1]
  float* vs = ks + lk * (d + 1);     // [lk][dv + 1]
  float* dos = vs + lk * (dvn + 1);  // [lq][dv + 1]
  float* pr = dos + lq * (dvn + 1);  // [lq][lk + 1]  probabilities
  float* dsc = pr + lq * (lk + 1);   // [lq][lk + 1]  score gradients
  float* di = dsc + lq * (lk + 1);   // [lq]          rowsum(dO * O)
  const int64_t bh = blockIdx.x, bb = bh / p.h, hh = bh - bb * p.h;
  load_tile<T>(qs, q, bb, hh, lq, d);
  load_tile<T>(ks, k, bb, hh, lk, d);
  load_tile<T>(vs, v, bb, hh, lk, dvn);
  load_tile<T>(dos, dout, bb, hh, lq, dvn);
  const int warp = threadIdx.x / 32, lane = threadIdx.x & 31;
  const T* ob = static_cast<const T*>(o.base);
  const T* db = static_cast<const T*>(dout.base);
  for (int i = warp; i < lq; i += kBackwardThreads / 32) {
    float acc = 0.f;
    for (int c = lane; c < dvn; c += 32) {
      acc += load(db, at(dout, bb, hh, i) + c) * load(ob, at(o, bb, hh, i) + c);
    }
    acc = warp_sum(acc);
    if (lane == 0) di[i] = acc;
  }
  __syncthreads();
  // P and dS, one (query, key) pair per thread step.
  for (int idx = threadIdx.x; idx < lq * lk; idx += kBackwardThreads) {
    const int i = idx / lk, j = idx - i * lk;
    const float row_lse = lse[bh * lq + i];
    float prob = 0.f, ds = 0.f;
    if (!isinf(row_lse) && visible(p, bb, i, j)) {
      float s = 0.f, dp = 0.f;
      for (int c = 0; c < d; ++c) s += qs[i * (d + 1) + c] * ks[j * (d + 1) + c];
      for (int c = 0; c < dvn; ++c) dp += dos[i * (dvn + 1) + c] * vs[j * (dvn + 1) + c];
      prob = expf(s * p.scale - row_lse);
      ds = prob * (dp - di[i]) * p.scale;
    }
    pr[i * (lk + 1) + j] = prob;
    dsc[i * (lk + 1) + j] = ds;
  }
  __syncthreads();
  // dV = Pᵀ dO, dK = dSᵀ Q, dQ = dS K: adjacent threads take adjacent columns.
  for (int idx = threadIdx.x; idx < lk * dvn; idx += kBackwardThreads) {
    const int j = idx / dvn, c = idx - j * dvn;
    float acc = 0.f;
    for (int i = 0; i < lq; ++i) acc += pr[i * (lk + 1) + j] * dos[i * (dvn + 1) + c];
    store(dv, (bh * lk + j) * dvn + c, acc);
  }
  for (int idx = threadIdx.x; idx < lk * d; idx += kBackwardThreads) {
    const int j = idx / d, c = idx - j * d;
    float acc = 0.f;
    for (int i = 0; i < lq; ++i) acc += dsc[i * (lk + 1) + j] * qs[i * (d + 1) + c];
    store(dk, (bh * lk + j) * d + c, acc);
  }
  for (int idx = threadIdx.x; idx < lq * d; idx += kBackwardThreads) {
    const int i = idx / d, c = idx - i * d;
    float acc = 0.f;
    for (int j = 0; j < lk; ++j) acc += dsc[i * (lk + 1) + j] * ks[j * (d + 1) + c];
    store(dq, (bh * lq + i) * d + c, acc);
  }
}

size_t forward_smem(const FallbackAttention& p) {
  return sizeof(float) * static_cast<size_t>(p.lk * (p.d + 1) + p.lk * (p.dv + 1) +
                                             (kForwardThreads / 32) * (p.d + p.lk));
}

size_t backward_smem(const FallbackAttention& p) {
  return sizeof(float) *
         static_cast<size_t>(p.lq * (p.d + 1) + p.lk * (p.d + 1) + p.lk * (p.dv + 1) +
                             p.lq * (p.dv + 1) + 2 * p.lq * (p.lk + 1) + p.lq);
}

// The current device's opt-in shared memory per block (227 KB on Hopper, less on older GPUs),
// read once per device.
size_t max_shared_memory() {
  constexpr int kDevices = 64;
  static std::atomic<int> cache[kDevices] = {};
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= kDevices) return 48 * 1024;
  int bytes = cache[dev].load(std::memory_order_relaxed);
  if (bytes == 0) {
    if (cudaDeviceGetAttribute(&bytes, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev) !=
        cudaSuccess) {
      bytes = 48 * 1024;
    }
    cache[dev].store(bytes, std::memory_order_relaxed);
  }
  return static_cast<size_t>(bytes);
}

void check(const char* what) {
  const cudaError_t st = cudaGetLastError();
  CHORUS_CHECK(st == cudaSuccess, what, ": kernel launch failed: ", cudaGetErrorString(st));
}

// Shared memory beyond the default 48 KB needs the kernel's opt-in (once per kernel is enough,
// but the call is cheap and keeps this stateless).
template <class K>
void allow_smem(K kernel, size_t bytes, const char* what) {
  if (bytes <= 48 * 1024) return;
  const cudaError_t st = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                              static_cast<int>(bytes));
  CHORUS_CHECK(st == cudaSuccess, what, ": cannot reserve ", bytes,
               " bytes of shared memory: ", cudaGetErrorString(st));
}

template <class T>
void forward_typed(const FallbackAttention& p, AttentionRows q, AttentionRows k, AttentionRows v,
                   void* out, float* lse, cudaStream_t stream) {
  const char* what = "scaled_dot_product_attention (short-sequence forward)";
  const size_t smem = forward_smem(p);
  allow_smem(small_forward<T>, smem, what);
  small_forward<T><<<static_cast<unsigned>(p.b * p.h), kForwardThreads, smem, stream>>>(
      p, q, k, v, static_cast<T*>(out), lse);
  check(what);
}

template <class T>
void backward_typed(const FallbackAttention& p, AttentionRows q, AttentionRows k, AttentionRows v,
                    AttentionRows o, AttentionRows dout, const float* lse, void* dq, void* dk,
                    void* dv, cudaStream_t stream) {
  const char* what = "scaled_dot_product_attention (short-sequence backward)";
  const size_t smem = backward_smem(p);
  allow_smem(small_backward<T>, smem, what);
  small_backward<T><<<static_cast<unsigned>(p.b * p.h), kBackwardThreads, smem, stream>>>(
      p, q, k, v, o, dout, lse, static_cast<T*>(dq), static_cast<T*>(dk), static_cast<T*>(dv));
  check(what);
}

}  // namespace

bool small_attention_fits(const FallbackAttention& p) {
  const bool shape = p.b * p.h > 0 && p.b * p.h < (int64_t{1} << 31) && p.lq >= 1 && p.lk >= 1 &&
                     p.lq <= kSmallAttentionMaxLen && p.lk <= kSmallAttentionMaxLen && p.d >= 1 &&
                     p.dv >= 1 && p.d <= kSmallAttentionMaxDim && p.dv <= kSmallAttentionMaxDim;
  // At the largest shapes the backward tiles take ~100 KB: GPUs with less shared memory per
  // block keep the warp-per-row kernels.
  return shape && backward_smem(p) <= max_shared_memory() && forward_smem(p) <= max_shared_memory();
}

void small_attention_forward(const FallbackAttention& p, AttentionRows q, AttentionRows k,
                             AttentionRows v, void* out, float* lse, cudaStream_t stream) {
  with_attention_dtype(p.dtype,
                       [&](auto t) { forward_typed<decltype(t)>(p, q, k, v, out, lse, stream); });
}

void small_attention_backward(const FallbackAttention& p, AttentionRows q, AttentionRows k,
                              AttentionRows v, AttentionRows out, AttentionRows dout,
                              const float* lse, void* dq, void* dk, void* dv, cudaStream_t stream) {
  with_attention_dtype(p.dtype, [&](auto t) {
    backward_typed<decltype(t)>(p, q, k, v, out, dout, lse, dq, dk, dv, stream);
  });
}

}  // namespace chorus::cuda::dnn
