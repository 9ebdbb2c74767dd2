// GEMM through cuBLASLt on raw device pointers: the engine's CUDA matmul/bmm/linear and the FP8
// product all end here.
//
// Row-major convention (the engine's): C[m, n] = alpha · op(A)[m, k] · op(B)[k, n] + beta · C,
// then the epilogue. cuBLASLt is column-major, so the call is issued as Cᵀ = op(B)ᵀ · op(A)ᵀ
// (the same bytes, read column-major), which needs no copy of any operand.
//
// Each distinct problem (shape, strides, dtypes, epilogue, pointer alignment) gets a plan, built
// once: its descriptors and the algorithm picked by cuBLASLt's heuristic, cached for the life of
// the process. The workspace (kWorkspaceBytes) is allocated once per device and stream.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/tensor/dtype.h"

namespace chorus::cuda::blas {

inline constexpr size_t kWorkspaceBytes = size_t{64} << 20;

enum class Epilogue : uint8_t {
  kNone,
  kBias,      // C[:, j] += bias[j] (bias in the C dtype)
  kGelu,      // C = gelu(C), tanh approximation
  kGeluBias,  // C = gelu(C + bias)
  kBiasGrad,  // also writes bias_grad[i] = Σ_k op(A)[i, k] (linear backward: dW = gᵀ·x, db = Σ g)
};

struct GemmArgs {
  int64_t m = 0, n = 0, k = 0;
  // op(A) = Aᵀ when trans_a: A is then stored [k, m]. Likewise B ([n, k] when trans_b).
  bool trans_a = false, trans_b = false;
  // Row strides (in elements) of A, B, C as stored; the column stride is always 1.
  int64_t lda = 0, ldb = 0, ldc = 0;
  // Strided batch: `batch` products, operand i at base + i·stride (stride 0 broadcasts).
  int64_t batch = 1;
  int64_t stride_a = 0, stride_b = 0, stride_c = 0;
  DType ab_type = DType::kBF16;  // A and B (f32, bf16, f16, f8e4m3, f8e5m2)
  DType c_type = DType::kBF16;   // C (f32, bf16, f16)
  float alpha = 1.f, beta = 0.f;
  // f32 inputs on TF32 tensor cores (about 1e-3 relative error instead of 1e-6).
  bool allow_tf32 = false;
  Epilogue epilogue = Epilogue::kNone;
  const void* bias = nullptr;  // [n] for kBias/kGeluBias
  void* bias_grad = nullptr;   // [m] for kBiasGrad, written in the C dtype
  // FP8 only: device pointers to one f32 each; the product is scaled by *scale_a · *scale_b.
  const float* scale_a = nullptr;
  const float* scale_b = nullptr;
  const char* op = "gemm";  // named in error messages
};

// Enqueues the product on `stream` (of the current device). Throws chorus::Error naming
// args.op, the shapes and the cuBLAS status when the problem is invalid or cuBLASLt fails.
void gemm(const GemmArgs& args, const void* a, const void* b, void* c, cudaStream_t stream);

// Whether cuBLASLt offers an algorithm for `args` with its epilogue (pointers assumed 256-byte
// aligned). Callers with an unfused fallback ask before choosing the fused path.
bool gemm_supported(const GemmArgs& args);

// Number of plans built so far (tests check that repeated shapes reuse their plan).
int64_t gemm_plan_count();

}  // namespace chorus::cuda::blas
