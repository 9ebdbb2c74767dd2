// Bias gradient of a convolution, db[o] = Σ_{n, y, x} dy[n, o, y, x]: one block per output
// channel, f32 accumulation. cudnnConvolutionBackwardBias returns NOT_SUPPORTED for bf16
// (seen on the H200 with cuDNN 9), so every dtype takes this kernel.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "core/ops/cuda/dnn/conv.h"
#include "core/tensor/error.h"

namespace chorus::cuda::dnn {
namespace {

__device__ inline float to_float(float v) { return v; }
__device__ inline float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ inline float to_float(__half v) { return __half2float(v); }
__device__ inline void from_float(float* p, float v) { *p = v; }
__device__ inline void from_float(__nv_bfloat16* p, float v) { *p = __float2bfloat16(v); }
__device__ inline void from_float(__half* p, float v) { *p = __float2half(v); }

template <class T>
__global__ void bias_grad_kernel(const T* dy, T* db, int64_t n, int64_t channels, int64_t hw) {
  const int64_t o = blockIdx.x;
  float sum = 0.f;
  for (int64_t i = threadIdx.x; i < n * hw; i += blockDim.x) {
    const int64_t sample = i / hw, pixel = i % hw;
    sum += to_float(dy[(sample * channels + o) * hw + pixel]);
  }
  __shared__ float partial[256];
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
    if (static_cast<int>(threadIdx.x) < stride)
      partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) from_float(db + o, partial[0]);
}

template <class T>
void launch(const ConvProblem& p, const void* dy, void* db, cudaStream_t stream) {
  bias_grad_kernel<T><<<static_cast<unsigned>(p.o), 256, 0, stream>>>(
      static_cast<const T*>(dy), static_cast<T*>(db), p.n, p.o, p.out_h * p.out_w);
}

}  // namespace

void conv_backward_bias(const ConvProblem& p, const void* dy, void* db, cudaStream_t stream) {
  if (p.o == 0) return;
  switch (p.dtype) {
    case DType::kF32:
      launch<float>(p, dy, db, stream);
      break;
    case DType::kBF16:
      launch<__nv_bfloat16>(p, dy, db, stream);
      break;
    case DType::kF16:
      launch<__half>(p, dy, db, stream);
      break;
    default:
      CHORUS_CHECK(false, "conv2d bias gradient: no CUDA kernel for ", dtype_name(p.dtype));
  }
  const cudaError_t st = cudaGetLastError();
  CHORUS_CHECK(st == cudaSuccess, "conv2d bias gradient [", p.n, "x", p.o, "x", p.out_h, "x",
               p.out_w, "]: launch failed: ", cudaGetErrorString(st));
}

}  // namespace chorus::cuda::dnn
