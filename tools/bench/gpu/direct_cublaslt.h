// The baseline of the GEMM benchmark: one bf16 product through cuBLASLt called directly, the
// way a hand-written program would (heuristic's first algorithm, same 64 MiB workspace), with
// none of the engine's layers. The engine's GEMM is held to >= 95% of this.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

namespace chorus::bench {

class DirectGemm {
 public:
  // Row-major C[m, n] = A[m, k] · B[k, n], bf16 in and out, f32 accumulation.
  DirectGemm(int64_t m, int64_t n, int64_t k, void* workspace, size_t ws_bytes)
      : m_(m), n_(n), k_(k), ws_(workspace), ws_bytes_(ws_bytes) {
    ok(cublasLtCreate(&handle_), "cublasLtCreate");
    ok(cublasLtMatmulDescCreate(&desc_, CUBLAS_COMPUTE_32F, CUDA_R_32F), "desc");
    // Column-major view: Cᵀ[n, m] = Bᵀ[n, k] · Aᵀ[k, m].
    ok(cublasLtMatrixLayoutCreate(&a_, CUDA_R_16BF, n, k, n), "layout B");
    ok(cublasLtMatrixLayoutCreate(&b_, CUDA_R_16BF, k, m, k), "layout A");
    ok(cublasLtMatrixLayoutCreate(&c_, CUDA_R_16BF, n, m, n), "layout C");
    cublasLtMatmulPreference_t pref;
    ok(cublasLtMatmulPreferenceCreate(&pref), "pref");
    uint64_t ws = ws_bytes;
    ok(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws,
                                            sizeof(ws)),
       "pref ws");
    int returned = 0;
    ok(cublasLtMatmulAlgoGetHeuristic(handle_, desc_, a_, b_, c_, c_, pref, 1, &result_, &returned),
       "heuristic");
    cublasLtMatmulPreferenceDestroy(pref);
    if (returned == 0) {
      std::fprintf(stderr, "direct cuBLASLt: no algorithm\n");
      std::exit(1);
    }
  }
  ~DirectGemm() {
    cublasLtMatrixLayoutDestroy(a_);
    cublasLtMatrixLayoutDestroy(b_);
    cublasLtMatrixLayoutDestroy(c_);
    cublasLtMatmulDescDestroy(desc_);
    cublasLtDestroy(handle_);
  }
  void run(const void* a, const void* b, void* c, cudaStream_t s) {
    const float alpha = 1.f, beta = 0.f;
    ok(cublasLtMatmul(handle_, desc_, &alpha, b, a_, a, b_, &beta, c, c_, c, c_, &result_.algo, ws_,
                      ws_bytes_, s),
       "cublasLtMatmul");
  }

 private:
  static void ok(cublasStatus_t st, const char* what) {
    if (st != CUBLAS_STATUS_SUCCESS) {
      std::fprintf(stderr, "direct cuBLASLt %s: %s\n", what, cublasLtGetStatusString(st));
      std::exit(1);
    }
  }
  int64_t m_, n_, k_;
  void* ws_;
  size_t ws_bytes_;
  cublasLtHandle_t handle_ = nullptr;
  cublasLtMatmulDesc_t desc_ = nullptr;
  cublasLtMatrixLayout_t a_ = nullptr, b_ = nullptr, c_ = nullptr;
  cublasLtMatmulHeuristicResult_t result_{};
};

}  // namespace chorus::bench
