#include "core/ops/cpu/gemm_kernels.h"

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <mutex>
#include <vector>

#include "core/tensor/dispatch.h"
#include "core/tensor/parallel.h"

namespace chorus::cpu {
namespace {

CBLAS_TRANSPOSE to_cblas(bool trans) { return trans ? CblasTrans : CblasNoTrans; }

blasint to_blasint(int64_t v) {
  CHORUS_CHECK(v >= 0 && v <= INT_MAX, "gemm: dimension ", v, " exceeds the BLAS integer range");
  return static_cast<blasint>(v);
}

// A [rows, cols] matrix inside a strided batch.
struct Mat {
  int64_t rows, cols, rs, cs;
};

// Strides of size-1 matrix dims carry no information (views may leave anything there); give
// them the value a dense matrix would have, so the folding tests below see through them.
void normalize(Mat& m) {
  if (m.rows == 1) m.rs = m.cols * m.cs;
  if (m.cols == 1) m.cs = m.rows * m.rs;
}

bool valid(const Mat& m) { return blas_layout(m.rows, m.cols, m.rs, m.cs).has_value(); }

struct BatchDim {
  int64_t size, sa, sb, sc;  // sc == 0: summed over
};

// Multi-index walk over a list of batch dims: offset of linear index `i` in each operand.
struct Offsets {
  int64_t a = 0, b = 0, c = 0;
};
Offsets unravel(const std::vector<BatchDim>& dims, int64_t i) {
  Offsets o;
  for (size_t d = dims.size(); d-- > 0;) {
    const int64_t idx = i % dims[d].size;
    i /= dims[d].size;
    o.a += idx * dims[d].sa;
    o.b += idx * dims[d].sb;
    o.c += idx * dims[d].sc;
  }
  return o;
}

int64_t count(const std::vector<BatchDim>& dims) {
  int64_t n = 1;
  for (const auto& d : dims) n *= d.size;
  return n;
}

std::mutex g_blas_threads_mutex;
int g_blas_scope_depth = 0;
int g_blas_saved_threads = 1;

void blas_call(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, blasint m, blasint n, blasint k, float alpha,
               const float* a, blasint lda, const float* b, blasint ldb, float beta, float* c,
               blasint ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void blas_call(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, blasint m, blasint n, blasint k,
               double alpha, const double* a, blasint lda, const double* b, blasint ldb,
               double beta, double* c, blasint ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
          int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // BLAS wants ld >= 1 even here; the product is empty, only beta·C remains
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
    }
    return;
  }
  blas_call(to_cblas(trans_a), to_cblas(trans_b), to_blasint(m), to_blasint(n), to_blasint(k),
            alpha, a, to_blasint(lda), b, to_blasint(ldb), beta, c, to_blasint(ldc));
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                          const float*, int64_t, float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                           const double*, int64_t, double, double*, int64_t);

BlasSingleThreadScope::BlasSingleThreadScope() {
  std::lock_guard<std::mutex> lock(g_blas_threads_mutex);
  if (g_blas_scope_depth++ == 0) {
    g_blas_saved_threads = openblas_get_num_threads();
    if (g_blas_saved_threads != 1) openblas_set_num_threads(1);
  }
}

BlasSingleThreadScope::~BlasSingleThreadScope() {
  std::lock_guard<std::mutex> lock(g_blas_threads_mutex);
  if (--g_blas_scope_depth == 0 && g_blas_saved_threads != 1) {
    openblas_set_num_threads(g_blas_saved_threads);
  }
}

std::optional<BlasLayout> blas_layout(int64_t rows, int64_t cols, int64_t row_stride,
                                      int64_t col_stride) {
  const int64_t min_ld_rowmajor = std::max<int64_t>(1, cols);
  if ((col_stride == 1 || cols <= 1) && (rows <= 1 || row_stride >= min_ld_rowmajor)) {
    return BlasLayout{false, rows <= 1 ? min_ld_rowmajor : row_stride};
  }
  const int64_t min_ld_trans = std::max<int64_t>(1, rows);
  if ((row_stride == 1 || rows <= 1) && (cols <= 1 || col_stride >= min_ld_trans)) {
    return BlasLayout{true, cols <= 1 ? min_ld_trans : col_stride};
  }
  return std::nullopt;
}

void batched_matmul(const Tensor& c, const Tensor& a, const Tensor& b, bool accumulate) {
  const int64_t r = a.dim();
  CHORUS_CHECK(r >= 2 && b.dim() == r && c.dim() == r, "batched_matmul: ranks ", a.dim(), ", ",
               b.dim(), ", ", c.dim());
  CHORUS_CHECK(c.is_contiguous(), "batched_matmul: output must be contiguous");
  CHORUS_CHECK(a.dtype() == b.dtype() && a.dtype() == c.dtype(), "batched_matmul: dtypes differ");

  Mat A{a.size(-2), a.size(-1), a.stride(-2), a.stride(-1)};
  Mat B{b.size(-2), b.size(-1), b.stride(-2), b.stride(-1)};
  Mat C{c.size(-2), c.size(-1), c.stride(-2), c.stride(-1)};
  CHORUS_CHECK(A.cols == B.rows && C.rows == A.rows && C.cols == B.cols,
               "batched_matmul: matrix shapes ", shape_str(a.shape()), " · ", shape_str(b.shape()),
               " -> ", shape_str(c.shape()));
  normalize(A);
  normalize(B);
  normalize(C);
  CHORUS_CHECK(valid(A) && valid(B), "batched_matmul: operand strides not BLAS-ready");

  // Batch dims: drop size-1 dims, mark the ones c sums over.
  std::vector<BatchDim> dims;
  bool empty_sum = false;
  for (int64_t i = 0; i < r - 2; ++i) {
    const int64_t s = a.shape()[i];
    CHORUS_CHECK(b.shape()[i] == s && (c.shape()[i] == s || c.shape()[i] == 1),
                 "batched_matmul: batch shapes ", shape_str(a.shape()), ", ", shape_str(b.shape()),
                 ", ", shape_str(c.shape()));
    const bool summed = c.shape()[i] != s;
    if (s == 0 && summed) empty_sum = true;
    if (s == 1) continue;
    dims.push_back({s, a.strides()[i], b.strides()[i], summed ? 0 : c.strides()[i]});
  }
  if (c.numel() == 0) return;
  if (A.cols == 0 || empty_sum) {  // empty contraction: the product is zero
    if (!accumulate) std::memset(c.raw_data(), 0, c.nbytes());
    return;
  }

  // Fold trailing batch dims into the GEMM: into M when only a and c vary along them and they
  // continue a's and c's row sequence; into K when c sums over them and they continue the
  // contraction in both a and b.
  while (!dims.empty()) {
    const BatchDim& d = dims.back();
    if (d.sb == 0 && d.sc != 0 && d.sa == A.rs * A.rows && d.sc == C.rs * C.rows) {
      Mat a2 = A;
      a2.rows *= d.size;
      if (valid(a2)) {
        A = a2;
        C.rows *= d.size;
        dims.pop_back();
        continue;
      }
    }
    if (d.sc == 0 && d.sa == A.cs * A.cols && d.sb == B.rs * B.rows) {
      Mat a2 = A, b2 = B;
      a2.cols *= d.size;
      b2.rows *= d.size;
      if (valid(a2) && valid(b2)) {
        A = a2;
        B = b2;
        dims.pop_back();
        continue;
      }
    }
    break;
  }

  std::vector<BatchDim> kept, summed;
  for (const auto& d : dims) (d.sc != 0 ? kept : summed).push_back(d);
  const int64_t n_kept = count(kept), n_summed = count(summed);
  const BlasLayout la = *blas_layout(A.rows, A.cols, A.rs, A.cs);
  const BlasLayout lb = *blas_layout(B.rows, B.cols, B.rs, B.cs);
  const int64_t m = A.rows, n = B.cols, k = A.cols, ldc = std::max<int64_t>(C.rs, 1);
  const int64_t work = m * n * k;

  CHORUS_DISPATCH_FLOAT(a.dtype(), T, [&] {
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* pc = c.data<T>();
    auto run = [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const Offsets ok = unravel(kept, i);
        for (int64_t j = 0; j < n_summed; ++j) {
          const Offsets os = unravel(summed, j);
          const T beta = (accumulate || j > 0) ? T(1) : T(0);
          gemm<T>(la.trans, lb.trans, m, n, k, T(1), pa + ok.a + os.a, la.ld, pb + ok.b + os.b,
                  lb.ld, beta, pc + ok.c, ldc);
        }
      }
    };
    if (n_kept > 1 && work <= kSmallGemm && num_threads() > 1) {
      BlasSingleThreadScope single;
      const int64_t grain =
          std::max<int64_t>(1, kSmallGemm / std::max<int64_t>(1, work * n_summed));
      parallel_for(0, n_kept, grain, run);
    } else {
      run(0, n_kept);  // each GEMM is big enough for OpenBLAS's own threads
    }
  });
}

}  // namespace chorus::cpu
