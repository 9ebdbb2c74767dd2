// Fused flash attention (forward and backward) through cuDNN's SDPA graph: the pattern
// matmul → scale → masks → softmax → matmul that cuDNN's fused attention engines recognise
// (built with the backend API in cudnn_graph.h). One plan per problem, cached.
#pragma once

#include <cuda_runtime_api.h>

#include <array>
#include <cstdint>

#include "core/tensor/dtype.h"

namespace chorus::cuda::dnn {

struct SdpaProblem {
  int64_t b = 0, h = 0, s_q = 0, s_kv = 0, d = 0, d_v = 0;
  DType dtype = DType::kBF16;  // q, k, v, o (and the gradients): bf16 or f16
  float scale = 1.f;
  bool causal = false;   // top-left aligned: query i sees keys j <= i
  bool padding = false;  // per-batch key lengths (seq_len_kv, int32 [b]); keys past them hidden
  // Element strides [batch, head, row, 1] of each tensor; the last must be 1.
  std::array<int64_t, 4> q{}, k{}, v{}, o{};
  std::array<int64_t, 4> dout{}, dq{}, dk{}, dv{};  // backward only
};

// Whether the problem's shape and dtype are ones the fused engines take (bf16/f16, head dims
// multiples of 8 up to 128). cuDNN may still refuse a plan; callers catch and fall back.
bool sdpa_shape_supported(const SdpaProblem& p);

// o and stats (f32 [b, h, s_q], dense: max + log Σ exp of the scaled scores, per row).
// seq_len_q/seq_len_kv: device int32 [b], only with p.padding (seq_len_q is all s_q).
void sdpa_forward(const SdpaProblem& p, const void* q, const void* k, const void* v, void* o,
                  float* stats, const int32_t* seq_len_q, const int32_t* seq_len_kv,
                  cudaStream_t stream);

void sdpa_backward(const SdpaProblem& p, const void* q, const void* k, const void* v, const void* o,
                   const void* dout, const float* stats, void* dq, void* dk, void* dv,
                   const int32_t* seq_len_q, const int32_t* seq_len_kv, cudaStream_t stream);

}  // namespace chorus::cuda::dnn
