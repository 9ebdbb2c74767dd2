// Simple, exact attention kernels for what the fused cuDNN path does not take (f32, head dims
// that are not multiples of 8 or above 128, arbitrary key-padding patterns, rows that see no
// key). Short sequences (Lq, Lk <= 64, head dims <= 64) take attention_small.cu: one block per
// head with its operands in shared memory. Longer ones: one warp walks one query row with an
// online softmax; the backward pass accumulates dK and dV with f32 atomics. Correct for any
// shape, but far from the fused kernels' speed.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/tensor/dtype.h"

namespace chorus::cuda::dnn {

struct AttentionRows {
  const void* base = nullptr;
  int64_t sb = 0, sh = 0, sl = 0;  // element strides of batch, head and row (the last dim is dense)
};

struct FallbackAttention {
  int64_t b = 0, h = 0, lq = 0, lk = 0, d = 0, dv = 0;
  DType dtype = DType::kF32;  // of q, k, v, o, dout, dq, dk, dv (f32, bf16 or f16)
  float scale = 1.f;
  bool causal = false;
  const uint8_t* key_padding = nullptr;  // device [b, lk], non-zero = padding; may be null
};

// out: dense [b, h, lq, dv]; lse: dense f32 [b, h, lq] (natural log-sum-exp of the scaled,
// masked scores; +inf for a row that sees no key, whose output is zero).
void attention_forward_fallback(const FallbackAttention& p, AttentionRows q, AttentionRows k,
                                AttentionRows v, void* out, float* lse, cudaStream_t stream);

// dq, dk, dv dense like q, k, v. `scratch_f32` holds b·h·lk·(d + dv) floats (unused when the
// short-sequence kernels take the problem).
void attention_backward_fallback(const FallbackAttention& p, AttentionRows q, AttentionRows k,
                                 AttentionRows v, AttentionRows out, AttentionRows dout,
                                 const float* lse, void* dq, void* dk, void* dv, float* scratch_f32,
                                 cudaStream_t stream);

// The short-sequence kernels (attention_small.cu), same contract as the two above; the fallback
// entries call them when small_attention_fits(p).
inline constexpr int64_t kSmallAttentionMaxLen = 64, kSmallAttentionMaxDim = 64;
bool small_attention_fits(const FallbackAttention& p);
void small_attention_forward(const FallbackAttention& p, AttentionRows q, AttentionRows k,
                             AttentionRows v, void* out, float* lse, cudaStream_t stream);
void small_attention_backward(const FallbackAttention& p, AttentionRows q, AttentionRows k,
                              AttentionRows v, AttentionRows out, AttentionRows dout,
                              const float* lse, void* dq, void* dk, void* dv, cudaStream_t stream);

}  // namespace chorus::cuda::dnn
