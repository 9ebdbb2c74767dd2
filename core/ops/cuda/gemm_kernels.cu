// A simple tiled GEMM for the grouped (MoE) matmul: C[M, N] = op(A) · op(B) with op a
// transpose or not, f32 or f64, 32×32 output tiles through shared memory. Correct on any
// shape; the fast bf16 path for MoE experts is cuBLASLt's (core/ops/cuda/blas), this one keeps
// grouped_matmul on the device until then.
#include "core/ops/cuda/common.cuh"
#include "core/ops/cuda/gemm_launch.h"

namespace chorus::cuda {
namespace {

constexpr int kTile = 32;

// Element (r, c) of op(X) where X is row-major with leading dimension ld.
template <class T>
__device__ __forceinline__ T at(const T* x, int64_t ld, bool trans, int64_t r, int64_t c) {
  return trans ? x[c * ld + r] : x[r * ld + c];
}

template <class T>
__global__ void gemm_tiled(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, bool ta,
                           const T* b, int64_t ldb, bool tb, T* c, int64_t ldc) {
  __shared__ T as[kTile][kTile + 1];
  __shared__ T bs[kTile][kTile + 1];
  const int64_t row = blockIdx.y * int64_t{kTile} + threadIdx.y;
  const int64_t col = blockIdx.x * int64_t{kTile} + threadIdx.x;
  T acc = 0;
  for (int64_t k0 = 0; k0 < k; k0 += kTile) {
    const int64_t ka = k0 + threadIdx.x, kb = k0 + threadIdx.y;
    as[threadIdx.y][threadIdx.x] = row < m && ka < k ? at(a, lda, ta, row, ka) : T(0);
    bs[threadIdx.y][threadIdx.x] = kb < k && col < n ? at(b, ldb, tb, kb, col) : T(0);
    __syncthreads();
#pragma unroll 8
    for (int i = 0; i < kTile; ++i) acc += as[threadIdx.y][i] * bs[i][threadIdx.x];
    __syncthreads();
  }
  if (row < m && col < n) c[row * ldc + col] = acc;
}

}  // namespace

void launch_gemm(bool f64, int64_t m, int64_t n, int64_t k, const void* a, int64_t lda,
                 bool trans_a, const void* b, int64_t ldb, bool trans_b, void* c, int64_t ldc,
                 StreamHandle stream) {
  if (m == 0 || n == 0) return;
  const dim3 grid(static_cast<unsigned>((n + kTile - 1) / kTile),
                  static_cast<unsigned>((m + kTile - 1) / kTile));
  const dim3 block(kTile, kTile);
  if (f64) {
    gemm_tiled<double><<<grid, block, 0, stream>>>(m, n, k, static_cast<const double*>(a), lda,
                                                   trans_a, static_cast<const double*>(b), ldb,
                                                   trans_b, static_cast<double*>(c), ldc);
  } else {
    gemm_tiled<float><<<grid, block, 0, stream>>>(m, n, k, static_cast<const float*>(a), lda,
                                                  trans_a, static_cast<const float*>(b), ldb,
                                                  trans_b, static_cast<float*>(c), ldc);
  }
}

}  // namespace chorus::cuda
