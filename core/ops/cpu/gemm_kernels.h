// Matrix products on the CPU through OpenBLAS.
//
// Two levels:
//  * gemm<T>(): one row-major GEMM, C = alpha·op(A)·op(B) + beta·C, a thin typed wrapper over
//    cblas_sgemm / cblas_dgemm for kernels that tile their own work (conv, attention).
//  * batched_matmul(): the engine's general product of strided, broadcast batches of matrices,
//    used by matmul/bmm/linear and their backward passes. It never copies operands: every
//    operand must already be "BLAS-ready" (see blas_layout), which transposed views of
//    contiguous matrices are, so aᵀ costs nothing.
#pragma once

#include <cstdint>
#include <optional>

#include "core/tensor/tensor.h"

namespace chorus::cpu {

// C[m,n] = alpha · op(A)[m,k] · op(B)[k,n] + beta · C, all row-major with leading dims
// lda/ldb/ldc. op(X) = Xᵀ when trans_x. T is float or double.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
          int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

// OpenBLAS runs GEMMs with at most this many multiply-adds (m·n·k) on one thread; batches of
// such GEMMs are spread over our thread pool instead, larger ones are left to OpenBLAS's own
// threads.
inline constexpr int64_t kSmallGemm = 64 * 64 * 64;

// While alive, OpenBLAS uses one thread per call, so that our pool's threads can each run
// GEMMs without oversubscribing the cores. Nesting and concurrent scopes from several threads
// are counted: the previous setting comes back when the last scope ends.
class BlasSingleThreadScope {
 public:
  BlasSingleThreadScope();
  ~BlasSingleThreadScope();
  BlasSingleThreadScope(const BlasSingleThreadScope&) = delete;
  BlasSingleThreadScope& operator=(const BlasSingleThreadScope&) = delete;
};

// How BLAS can read a strided [rows, cols] matrix: row-major (trans = false) with leading dim
// ld, or as the transpose of a row-major [cols, rows] matrix (trans = true). nullopt when
// neither stride is 1 or the other stride is too small (overlapping or broadcast rows): the
// caller must copy the operand first.
struct BlasLayout {
  bool trans = false;
  int64_t ld = 1;
};
std::optional<BlasLayout> blas_layout(int64_t rows, int64_t cols, int64_t row_stride,
                                      int64_t col_stride);

// c[cb..., m, n] (+)= Σ a[b..., m, k] · b[b..., k, n] over the batch dims that c does not keep.
// a and b have the same rank r >= 2 and the same batch shape (broadcast dims are stride 0);
// their matrices must pass blas_layout. c is contiguous, of rank r, with each batch dim equal
// to the operands' or 1 (then summed over). All three share dtype f32 or f64. With
// `accumulate`, the products are added to c's contents (used to fuse a bias), else c is
// overwritten. Batch dims that are laid out contiguously are folded into one larger GEMM
// (e.g. [B, T, in] · Wᵀ is a single [B·T, in] GEMM, and its weight gradient one GEMM over B·T).
void batched_matmul(const Tensor& c, const Tensor& a, const Tensor& b, bool accumulate);

}  // namespace chorus::cpu
