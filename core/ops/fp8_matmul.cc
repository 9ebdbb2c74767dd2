// fp8_matmul front-end and its CPU reference kernel.
#include "core/ops/fp8_matmul.h"

#include <vector>

#include "core/ops/kernel_dispatch.h"
#include "core/ops/operands.h"
#include "core/tensor/dispatch.h"

namespace chorus {

namespace cpu {

void fp8_matmul_kernel(const Tensor& out, const Tensor& a, const Tensor& b, const Tensor& scale_a,
                       const Tensor& scale_b) {
  const int64_t m = a.size(0), n = b.size(0), k = a.size(1);
  const float scale = static_cast<float>(load_as_double(scale_a.raw_data(), 0, DType::kF32) *
                                         load_as_double(scale_b.raw_data(), 0, DType::kF32));
  std::vector<float> av(m * k), bv(n * k);
  for (int64_t i = 0; i < m * k; ++i) av[i] = load_as_double(a.raw_data(), i, a.dtype());
  for (int64_t i = 0; i < n * k; ++i) bv[i] = load_as_double(b.raw_data(), i, b.dtype());
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float s = 0.f;
      for (int64_t p = 0; p < k; ++p) s += av[i * k + p] * bv[j * k + p];
      store_from_double(out.raw_data(), i * n + j, out.dtype(), s * scale);
    }
  }
}

}  // namespace cpu

Tensor fp8_matmul(const Tensor& a, const Tensor& b, const Tensor& scale_a, const Tensor& scale_b,
                  DType out_dtype) {
  ops_internal::require_same_device("fp8_matmul", {&a, &b, &scale_a, &scale_b});
  auto is_f8 = [](DType t) { return t == DType::kF8E4M3 || t == DType::kF8E5M2; };
  CHORUS_CHECK(a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(1), "fp8_matmul: expects a ",
               "[M, K] and b [N, K], got ", shape_str(a.shape()), " and ", shape_str(b.shape()));
  CHORUS_CHECK(is_f8(a.dtype()) && is_f8(b.dtype()), "fp8_matmul: a and b must be f8e4m3 or ",
               "f8e5m2, got ", dtype_name(a.dtype()), " and ", dtype_name(b.dtype()));
  CHORUS_CHECK(a.dtype() == b.dtype(), "fp8_matmul: a and b must share one fp8 dtype, got ",
               dtype_name(a.dtype()), " and ", dtype_name(b.dtype()));
  CHORUS_CHECK(scale_a.numel() == 1 && scale_b.numel() == 1 && scale_a.dtype() == DType::kF32 &&
                   scale_b.dtype() == DType::kF32,
               "fp8_matmul: scales must be single f32 values, got ", scale_a.ToString(), " and ",
               scale_b.ToString());
  CHORUS_CHECK(out_dtype == DType::kBF16 || out_dtype == DType::kF16 || out_dtype == DType::kF32,
               "fp8_matmul: out_dtype must be bf16, f16 or f32, got ", dtype_name(out_dtype));
  Tensor out = Tensor::empty({a.size(0), b.size(0)}, out_dtype, a.device());
  if (out.numel() == 0) return out;
  CHORUS_KERNEL(cpu::fp8_matmul_kernel)
  (out, a.contiguous(), b.contiguous(), scale_a.contiguous(), scale_b.contiguous());
  return out;
}

}  // namespace chorus
