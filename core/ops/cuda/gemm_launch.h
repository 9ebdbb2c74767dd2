// Launcher of the simple tiled GEMM (gemm_kernels.cu), used by grouped_matmul on CUDA.
#pragma once

#include "core/ops/cuda/launch.h"

namespace chorus::cuda {

// C[m, n] = op(A) · op(B), row-major, op(X) = Xᵀ when trans; A is [m, k] after op, B [k, n].
// With k = 0, C is zero-filled.
void launch_gemm(bool f64, int64_t m, int64_t n, int64_t k, const void* a, int64_t lda,
                 bool trans_a, const void* b, int64_t ldb, bool trans_b, void* c, int64_t ldc,
                 StreamHandle stream);

}  // namespace chorus::cuda
