// 2-D convolutions (cross-correlation, NCHW, groups, dilation) through cuDNN: forward, backward
// data, backward filter and the bias gradient. Algorithms come from cuDNN's heuristic and are
// cached per problem. f32 runs on plain FMA (no TF32), bf16/f16 on tensor cores with f32
// accumulation.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/tensor/dtype.h"

namespace chorus::cuda::dnn {

struct ConvProblem {
  int64_t n = 0, c = 0, h = 0, w = 0;  // input [n, c, h, w]
  int64_t o = 0, kh = 1, kw = 1;       // weight [o, c / groups, kh, kw]
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dil_h = 1, dil_w = 1;
  int64_t groups = 1;
  int64_t out_h = 0, out_w = 0;  // output [n, o, out_h, out_w]
  DType dtype = DType::kF32;     // f32, bf16 or f16; every tensor dense
};

// y = conv(x, w) (+ bias[o] when bias is not null).
void conv_forward(const ConvProblem& p, const void* x, const void* w, const void* bias, void* y,
                  cudaStream_t stream);
// dx (overwritten) from dy.
void conv_backward_data(const ConvProblem& p, const void* dy, const void* w, void* dx,
                        cudaStream_t stream);
// dw (overwritten) from dy and x.
void conv_backward_filter(const ConvProblem& p, const void* dy, const void* x, void* dw,
                          cudaStream_t stream);
// db[o] = Σ dy over n, h, w (overwritten).
void conv_backward_bias(const ConvProblem& p, const void* dy, void* db, cudaStream_t stream);

}  // namespace chorus::cuda::dnn
