// Device helpers shared by the attention kernels that cuDNN's fused path does not cover
// (attention_fallback.cu: warp per row; attention_small.cu: block per head): element loads and
// stores in f32, warp reductions, the mask test, and the dispatch over the three float dtypes.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "core/ops/cuda/dnn/attention_fallback.h"
#include "core/tensor/error.h"

namespace chorus::cuda::dnn {

__device__ inline float load(const float* p, int64_t i) { return p[i]; }
__device__ inline float load(const __nv_bfloat16* p, int64_t i) { return __bfloat162float(p[i]); }
__device__ inline float load(const __half* p, int64_t i) { return __half2float(p[i]); }
__device__ inline void store(float* p, int64_t i, float v) { p[i] = v; }
__device__ inline void store(__nv_bfloat16* p, int64_t i, float v) { p[i] = __float2bfloat16(v); }
__device__ inline void store(__half* p, int64_t i, float v) { p[i] = __float2half(v); }

__device__ inline float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ inline float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Whether query i of batch entry b sees key j (causal and key-padding masks).
__device__ inline bool visible(const FallbackAttention& p, int64_t b, int64_t i, int64_t j) {
  if (p.causal && j > i) return false;
  return p.key_padding == nullptr || p.key_padding[b * p.lk + j] == 0;
}

// f(T{}) with T the element type of p.dtype (f32, bf16, f16); other dtypes throw.
template <class F>
void with_attention_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::kF32:
      return f(float{});
    case DType::kBF16:
      return f(__nv_bfloat16{});
    case DType::kF16:
      return f(__half{});
    default:
      CHORUS_CHECK(false, "scaled_dot_product_attention: no CUDA kernel for ", dtype_name(dtype));
  }
}

}  // namespace chorus::cuda::dnn
