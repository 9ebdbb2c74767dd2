// Warp-per-row attention (see attention_fallback.h).
#include <cmath>

#include "core/ops/cuda/dnn/attention_common.cuh"

namespace chorus::cuda::dnn {
namespace {

constexpr int kMaxPerLane = 8;  // head dims up to 256

struct Rows {
  int64_t sb, sh, sl;
  __device__ int64_t at(int64_t b, int64_t h, int64_t l) const { return b * sb + h * sh + l * sl; }
};

template <class T>
__global__ void forward_kernel(FallbackAttention p, const T* q, Rows qs, const T* k, Rows ks,
                               const T* v, Rows vs, T* out, float* lse) {
  const int lane = threadIdx.x & 31;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
  if (row >= p.b * p.h * p.lq) return;
  const int64_t i = row % p.lq, bh = row / p.lq, hh = bh % p.h, bb = bh / p.h;
  float qr[kMaxPerLane], acc[kMaxPerLane];
  for (int t = 0; t < kMaxPerLane; ++t) {
    const int64_t c = lane + 32 * t;
    qr[t] = c < p.d ? load(q, qs.at(bb, hh, i) + c) : 0.f;
    acc[t] = 0.f;
  }
  float m = -INFINITY, l = 0.f;
  for (int64_t j = 0; j < p.lk; ++j) {
    if (!visible(p, bb, i, j)) continue;
    float s = 0.f;
    const int64_t kb = ks.at(bb, hh, j);
    for (int t = 0; t < kMaxPerLane; ++t) {
      const int64_t c = lane + 32 * t;
      if (c < p.d) s += qr[t] * load(k, kb + c);
    }
    s = warp_sum(s) * p.scale;
    const float m_new = fmaxf(m, s);
    const float corr = expf(m - m_new), w = expf(s - m_new);
    l = l * corr + w;
    const int64_t vb = vs.at(bb, hh, j);
    for (int t = 0; t < kMaxPerLane; ++t) {
      const int64_t c = lane + 32 * t;
      if (c < p.dv) acc[t] = acc[t] * corr + w * load(v, vb + c);
    }
    m = m_new;
  }
  const float inv = l > 0.f ? 1.f / l : 0.f;
  for (int t = 0; t < kMaxPerLane; ++t) {
    const int64_t c = lane + 32 * t;
    if (c < p.dv) store(out, row * p.dv + c, acc[t] * inv);
  }
  if (lane == 0) lse[row] = l > 0.f ? m + logf(l) : INFINITY;
}

template <class T>
__global__ void backward_kernel(FallbackAttention p, const T* q, Rows qs, const T* k, Rows ks,
                                const T* v, Rows vs, const T* o, Rows os, const T* dout, Rows ds,
                                const float* lse, T* dq, float* dk_acc, float* dv_acc) {
  const int lane = threadIdx.x & 31;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
  if (row >= p.b * p.h * p.lq) return;
  const int64_t i = row % p.lq, bh = row / p.lq, hh = bh % p.h, bb = bh / p.h;
  float qr[kMaxPerLane], dor[kMaxPerLane], dqr[kMaxPerLane];
  float di = 0.f;
  for (int t = 0; t < kMaxPerLane; ++t) {
    const int64_t c = lane + 32 * t;
    qr[t] = c < p.d ? load(q, qs.at(bb, hh, i) + c) : 0.f;
    dor[t] = c < p.dv ? load(dout, ds.at(bb, hh, i) + c) : 0.f;
    if (c < p.dv) di += dor[t] * load(o, os.at(bb, hh, i) + c);
    dqr[t] = 0.f;
  }
  di = warp_sum(di);
  const float row_lse = lse[row];
  if (isinf(row_lse)) {  // the row saw no key: zero gradient
    for (int t = 0; t < kMaxPerLane; ++t) {
      const int64_t c = lane + 32 * t;
      if (c < p.d) store(dq, row * p.d + c, 0.f);
    }
    return;
  }
  for (int64_t j = 0; j < p.lk; ++j) {
    if (!visible(p, bb, i, j)) continue;
    const int64_t kb = ks.at(bb, hh, j), vb = vs.at(bb, hh, j);
    float s = 0.f, dp = 0.f;
    for (int t = 0; t < kMaxPerLane; ++t) {
      const int64_t c = lane + 32 * t;
      if (c < p.d) s += qr[t] * load(k, kb + c);
      if (c < p.dv) dp += dor[t] * load(v, vb + c);
    }
    s = warp_sum(s) * p.scale;
    dp = warp_sum(dp);
    const float pr = expf(s - row_lse);
    const float dsc = pr * (dp - di) * p.scale;
    float* dk_row = dk_acc + (bh * p.lk + j) * p.d;
    float* dv_row = dv_acc + (bh * p.lk + j) * p.dv;
    for (int t = 0; t < kMaxPerLane; ++t) {
      const int64_t c = lane + 32 * t;
      if (c < p.d) {
        dqr[t] += dsc * load(k, kb + c);
        atomicAdd(dk_row + c, dsc * qr[t]);
      }
      if (c < p.dv) atomicAdd(dv_row + c, pr * dor[t]);
    }
  }
  for (int t = 0; t < kMaxPerLane; ++t) {
    const int64_t c = lane + 32 * t;
    if (c < p.d) store(dq, row * p.d + c, dqr[t]);
  }
}

template <class T>
__global__ void convert_kernel(const float* src, T* dst, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) store(dst, i, src[i]);
}

void check_launch(const char* what) {
  const cudaError_t st = cudaGetLastError();
  CHORUS_CHECK(st == cudaSuccess, what, ": kernel launch failed: ", cudaGetErrorString(st));
}

Rows rows(const AttentionRows& r) { return Rows{r.sb, r.sh, r.sl}; }

template <class T>
void forward_typed(const FallbackAttention& p, AttentionRows q, AttentionRows k, AttentionRows v,
                   void* out, float* lse, cudaStream_t stream) {
  const int64_t n_rows = p.b * p.h * p.lq;
  if (n_rows == 0) return;
  constexpr int kWarps = 4;
  const unsigned grid = static_cast<unsigned>((n_rows + kWarps - 1) / kWarps);
  forward_kernel<T><<<grid, kWarps * 32, 0, stream>>>(
      p, static_cast<const T*>(q.base), rows(q), static_cast<const T*>(k.base), rows(k),
      static_cast<const T*>(v.base), rows(v), static_cast<T*>(out), lse);
  check_launch("scaled_dot_product_attention (fallback forward)");
}

template <class T>
void backward_typed(const FallbackAttention& p, AttentionRows q, AttentionRows k, AttentionRows v,
                    AttentionRows o, AttentionRows dout, const float* lse, void* dq, void* dk,
                    void* dv, float* scratch, cudaStream_t stream) {
  const char* what = "scaled_dot_product_attention (fallback backward)";
  const int64_t nk = p.b * p.h * p.lk * p.d, nv = p.b * p.h * p.lk * p.dv;
  float* dk_acc = scratch;
  float* dv_acc = scratch + nk;
  cudaError_t st = cudaMemsetAsync(scratch, 0, (nk + nv) * sizeof(float), stream);
  CHORUS_CHECK(st == cudaSuccess, what, ": cudaMemsetAsync failed: ", cudaGetErrorString(st));
  const int64_t n_rows = p.b * p.h * p.lq;
  constexpr int kWarps = 4;
  if (n_rows > 0) {
    const unsigned grid = static_cast<unsigned>((n_rows + kWarps - 1) / kWarps);
    backward_kernel<T><<<grid, kWarps * 32, 0, stream>>>(
        p, static_cast<const T*>(q.base), rows(q), static_cast<const T*>(k.base), rows(k),
        static_cast<const T*>(v.base), rows(v), static_cast<const T*>(o.base), rows(o),
        static_cast<const T*>(dout.base), rows(dout), lse, static_cast<T*>(dq), dk_acc, dv_acc);
    check_launch(what);
  }
  if (nk > 0) {
    convert_kernel<T><<<static_cast<unsigned>((nk + 255) / 256), 256, 0, stream>>>(
        dk_acc, static_cast<T*>(dk), nk);
    check_launch(what);
  }
  if (nv > 0) {
    convert_kernel<T><<<static_cast<unsigned>((nv + 255) / 256), 256, 0, stream>>>(
        dv_acc, static_cast<T*>(dv), nv);
    check_launch(what);
  }
}

void check_params(const FallbackAttention& p) {
  CHORUS_CHECK(p.d <= 32 * kMaxPerLane && p.dv <= 32 * kMaxPerLane,
               "scaled_dot_product_attention: head dims up to ", 32 * kMaxPerLane, " on CUDA, got ",
               p.d, " and ", p.dv);
}

}  // namespace

void attention_forward_fallback(const FallbackAttention& p, AttentionRows q, AttentionRows k,
                                AttentionRows v, void* out, float* lse, cudaStream_t stream) {
  check_params(p);
  if (small_attention_fits(p)) return small_attention_forward(p, q, k, v, out, lse, stream);
  with_attention_dtype(p.dtype,
                       [&](auto t) { forward_typed<decltype(t)>(p, q, k, v, out, lse, stream); });
}

void attention_backward_fallback(const FallbackAttention& p, AttentionRows q, AttentionRows k,
                                 AttentionRows v, AttentionRows out, AttentionRows dout,
                                 const float* lse, void* dq, void* dk, void* dv, float* scratch_f32,
                                 cudaStream_t stream) {
  check_params(p);
  if (small_attention_fits(p)) {
    return small_attention_backward(p, q, k, v, out, dout, lse, dq, dk, dv, stream);
  }
  with_attention_dtype(p.dtype, [&](auto t) {
    backward_typed<decltype(t)>(p, q, k, v, out, dout, lse, dq, dk, dv, scratch_f32, stream);
  });
}

}  // namespace chorus::cuda::dnn
