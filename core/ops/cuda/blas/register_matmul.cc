// CUDA entries of the matrix-product kernel slots: batched_matmul (matmul, bmm, linear and their
// gradients), linear's fused-bias fast paths and fp8_matmul, all through cuBLASLt (gemm.h).
//
// batched_matmul follows the CPU kernel's contract (core/ops/cpu/gemm_kernels.h): batch dims that
// continue a GEMM's rows or contraction are folded into it, one remaining kept dim becomes
// cuBLASLt's strided batch, anything else is looped over, and dims that c sums over accumulate
// with beta = 1. f64 has no tensor-core path and runs the CPU kernel on host copies.
#include <cstdlib>

#include "core/ops/cpu/gemm_kernels.h"
#include "core/ops/cuda/blas/gemm.h"
#include "core/ops/cuda/runtime.h"
#include "core/ops/cuda/tensor_operands.h"
#include "core/ops/device_dtype.h"
#include "core/ops/fp8_matmul.h"
#include "core/ops/kernel_dispatch.h"
#include "core/ops/linear_fused.h"

namespace chorus::cuda {
namespace {

struct Mat {
  int64_t rows, cols, rs, cs;
};

// Size-1 dims' strides carry no information; give them a dense matrix's values.
void normalize(Mat& m) {
  if (m.rows == 1) m.rs = m.cols * m.cs;
  if (m.cols == 1) m.cs = m.rows * m.rs;
}

bool valid(const Mat& m) { return cpu::blas_layout(m.rows, m.cols, m.rs, m.cs).has_value(); }

struct BatchDim {
  int64_t size, sa, sb, sc;  // sc == 0: c sums over this dim
};

int64_t count(const std::vector<BatchDim>& dims) {
  int64_t n = 1;
  for (const auto& d : dims) n *= d.size;
  return n;
}

// Offsets of multi-index `i` over `dims` in each operand.
std::array<int64_t, 3> unravel(const std::vector<BatchDim>& dims, int64_t i) {
  std::array<int64_t, 3> o{0, 0, 0};
  for (size_t d = dims.size(); d-- > 0;) {
    const int64_t idx = i % dims[d].size;
    i /= dims[d].size;
    o[0] += idx * dims[d].sa;
    o[1] += idx * dims[d].sb;
    o[2] += idx * dims[d].sc;
  }
  return o;
}

bool allow_tf32() {
  static const bool on = [] {
    const char* v = std::getenv("CHORUS_ALLOW_TF32");
    return v != nullptr && v[0] == '1';
  }();
  return on;
}

bool has_lt_type(DType t) { return t == DType::kF32 || t == DType::kBF16 || t == DType::kF16; }

char* bytes(const Tensor& t) { return static_cast<char*>(t.raw_data()); }

void cuda_batched_matmul(const Tensor& c, const Tensor& a, const Tensor& b, bool accumulate) {
  if (!has_lt_type(c.dtype())) {  // f64: no tensor-core GEMM; run the CPU kernel on copies
    ops_internal::host_fallback<&cpu::batched_matmul>("cpu::batched_matmul", c, a, b, accumulate);
    return;
  }
  const int64_t r = a.dim();
  CHORUS_CHECK(r >= 2 && b.dim() == r && c.dim() == r && c.is_contiguous() &&
                   a.dtype() == c.dtype() && b.dtype() == c.dtype(),
               describe("matmul (CUDA)", {&c, &a, &b}), ": operands do not fit the kernel");
  Mat A{a.size(-2), a.size(-1), a.stride(-2), a.stride(-1)};
  Mat B{b.size(-2), b.size(-1), b.stride(-2), b.stride(-1)};
  Mat C{c.size(-2), c.size(-1), c.stride(-2), c.stride(-1)};
  normalize(A), normalize(B), normalize(C);
  CHORUS_CHECK(valid(A) && valid(B), describe("matmul (CUDA)", {&c, &a, &b}),
               ": operand strides not BLAS-ready");
  std::vector<BatchDim> dims;
  bool empty_sum = false;
  for (int64_t i = 0; i < r - 2; ++i) {
    const int64_t s = a.shape()[i];
    const bool summed = c.shape()[i] != s;
    if (s == 0 && summed) empty_sum = true;
    if (s == 1) continue;
    dims.push_back({s, a.strides()[i], b.strides()[i], summed ? 0 : c.strides()[i]});
  }
  if (c.numel() == 0) return;
  const int d = device_index(c, "matmul");
  DeviceGuard guard(d);
  const StreamHandle stream = current_stream(d);
  if (A.cols == 0 || empty_sum) {  // empty contraction: the product is zero
    if (!accumulate) c.zero_();
    return;
  }
  while (!dims.empty()) {  // fold trailing batch dims into M or K (see the CPU kernel)
    const BatchDim& bd = dims.back();
    if (bd.sb == 0 && bd.sc != 0 && bd.sa == A.rs * A.rows && bd.sc == C.rs * C.rows) {
      Mat a2 = A;
      a2.rows *= bd.size;
      if (valid(a2)) {
        A = a2;
        C.rows *= bd.size;
        dims.pop_back();
        continue;
      }
    }
    if (bd.sc == 0 && bd.sa == A.cs * A.cols && bd.sb == B.rs * B.rows) {
      Mat a2 = A, b2 = B;
      a2.cols *= bd.size;
      b2.rows *= bd.size;
      if (valid(a2) && valid(b2)) {
        A = a2, B = b2;
        dims.pop_back();
        continue;
      }
    }
    break;
  }
  std::vector<BatchDim> kept, summed;
  for (const auto& bd : dims) (bd.sc != 0 ? kept : summed).push_back(bd);
  // The innermost kept dim becomes cuBLASLt's strided batch; the rest are looped over.
  BatchDim inner{1, 0, 0, 0};
  if (!kept.empty()) {
    inner = kept.back();
    kept.pop_back();
  }
  const auto la = *cpu::blas_layout(A.rows, A.cols, A.rs, A.cs);
  const auto lb = *cpu::blas_layout(B.rows, B.cols, B.rs, B.cs);
  blas::GemmArgs g;
  g.m = A.rows, g.n = B.cols, g.k = A.cols;
  g.trans_a = la.trans, g.trans_b = lb.trans, g.lda = la.ld, g.ldb = lb.ld;
  g.ldc = std::max<int64_t>(C.rs, 1);
  g.batch = inner.size, g.stride_a = inner.sa, g.stride_b = inner.sb, g.stride_c = inner.sc;
  g.ab_type = g.c_type = c.dtype();
  g.allow_tf32 = allow_tf32();
  g.op = "matmul";
  const size_t es = c.itemsize();
  const int64_t n_kept = count(kept), n_summed = count(summed);
  for (int64_t i = 0; i < n_kept; ++i) {
    const auto ok = unravel(kept, i);
    for (int64_t j = 0; j < n_summed; ++j) {
      const auto os = unravel(summed, j);
      g.beta = (accumulate || j > 0) ? 1.f : 0.f;
      blas::gemm(g, bytes(a) + (ok[0] + os[0]) * es, bytes(b) + (ok[1] + os[1]) * es,
                 bytes(c) + ok[2] * es, stream);
    }
  }
}

bool cuda_linear_bias_forward(const Tensor& out, const Tensor& x, const Tensor& w,
                              const Tensor& bias) {
  if (!has_lt_type(out.dtype()) || x.size(1) == 0 || out.numel() == 0) return false;
  const int d = device_index(out, "linear");
  DeviceGuard guard(d);
  blas::GemmArgs g;  // out = x · wᵀ (+ bias in the epilogue)
  g.m = x.size(0), g.n = w.size(0), g.k = x.size(1);
  g.trans_b = true;
  g.lda = g.k, g.ldb = g.k, g.ldc = g.n;
  g.ab_type = g.c_type = out.dtype();
  g.allow_tf32 = allow_tf32();
  g.epilogue = blas::Epilogue::kBias;
  g.bias = bias.raw_data();
  g.op = "linear";
  if (!blas::gemm_supported(g)) return false;
  blas::gemm(g, x.raw_data(), w.raw_data(), out.raw_data(), current_stream(d));
  return true;
}

bool cuda_linear_weight_bias_backward(const Tensor& dw, const Tensor& db, const Tensor& g_out,
                                      const Tensor& x) {
  if (!has_lt_type(dw.dtype()) || g_out.size(0) == 0 || dw.numel() == 0) return false;
  const int d = device_index(dw, "linear backward");
  DeviceGuard guard(d);
  blas::GemmArgs g;  // dw = gᵀ · x, db = Σ_rows g (the reduction of op(A) over k)
  g.m = g_out.size(1), g.n = x.size(1), g.k = g_out.size(0);
  g.trans_a = true;
  g.lda = g.m, g.ldb = g.n, g.ldc = g.n;
  g.ab_type = g.c_type = dw.dtype();
  g.allow_tf32 = allow_tf32();
  g.epilogue = blas::Epilogue::kBiasGrad;
  g.bias_grad = db.raw_data();
  g.op = "linear backward";
  if (!blas::gemm_supported(g)) return false;
  blas::gemm(g, g_out.raw_data(), x.raw_data(), dw.raw_data(), current_stream(d));
  return true;
}

void cuda_fp8_matmul(const Tensor& out, const Tensor& a, const Tensor& b, const Tensor& scale_a,
                     const Tensor& scale_b) {
  const int d = device_index(out, "fp8_matmul");
  DeviceGuard guard(d);
  blas::GemmArgs g;  // out = (a · bᵀ) · scale_a · scale_b, the TN layout of FP8 tensor cores
  g.m = a.size(0), g.n = b.size(0), g.k = a.size(1);
  g.trans_b = true;
  g.lda = g.k, g.ldb = g.k, g.ldc = g.n;
  g.ab_type = a.dtype();
  g.c_type = out.dtype();
  g.scale_a = static_cast<const float*>(scale_a.raw_data());
  g.scale_b = static_cast<const float*>(scale_b.raw_data());
  g.op = "fp8_matmul";
  blas::gemm(g, a.raw_data(), b.raw_data(), out.raw_data(), current_stream(d));
}

}  // namespace

// bf16/f16 reach these kernels as they are (core/ops/device_dtype.h).
[[maybe_unused]] static const bool g_native_half = ops_internal::enable_native_half_kernels();
CHORUS_REGISTER_CUDA_KERNEL(cpu::batched_matmul, cuda_batched_matmul);
CHORUS_REGISTER_CUDA_KERNEL(ops_internal::linear_bias_forward, cuda_linear_bias_forward);
CHORUS_REGISTER_CUDA_KERNEL(ops_internal::linear_weight_bias_backward,
                            cuda_linear_weight_bias_backward);
CHORUS_REGISTER_CUDA_KERNEL(cpu::fp8_matmul_kernel, cuda_fp8_matmul);

}  // namespace chorus::cuda
