// fp8_matmul on the CPU: a · bᵀ · scale_a · scale_b on values exactly representable in e4m3,
// against a double loop; and clear errors for bad input.
#include "core/ops/fp8_matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace chorus {
namespace {

TEST(Fp8Matmul, MatchesScaledProductOfTheCodes) {
  // Every value is exact in e4m3 (3 mantissa bits), so the reference sees the same inputs.
  const std::vector<float> av = {0.5f, -1.f, 1.5f, 2.f, 0.25f, -0.75f, 3.f, -0.125f};  // [2, 4]
  const std::vector<float> bv = {1.f, 0.5f, -2.f,   0.75f, -1.5f, 0.25f,
                                 1.f, 4.f,  0.375f, -0.5f, 2.f,   -1.f};  // [3, 4]
  const Tensor a = Tensor::from_vector(av, {2, 4}).to(DType::kF8E4M3);
  const Tensor b = Tensor::from_vector(bv, {3, 4}).to(DType::kF8E4M3);
  const Tensor sa = Tensor::scalar(0.5), sb = Tensor::scalar(3.0);
  for (DType out_dtype : {DType::kF32, DType::kBF16}) {
    const Tensor out = fp8_matmul(a, b, sa, sb, out_dtype);
    ASSERT_EQ(out.shape(), (Shape{2, 3}));
    ASSERT_EQ(out.dtype(), out_dtype);
    const std::vector<double> got = out.to_vector<double>();
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 3; ++j) {
        double ref = 0;
        for (int p = 0; p < 4; ++p) ref += double(av[i * 4 + p]) * bv[j * 4 + p];
        ref *= 1.5;
        // bf16 keeps 8 significant bits: the sums here are exact in it except for rounding.
        EXPECT_NEAR(got[i * 3 + j], ref, out_dtype == DType::kF32 ? 1e-6 : 1e-2 * std::abs(ref))
            << i << "," << j;
      }
    }
  }
}

TEST(Fp8Matmul, EmptyContractionGivesZeros) {
  const Tensor a = Tensor::zeros({2, 0}, DType::kF8E4M3), b = Tensor::zeros({3, 0}, DType::kF8E4M3);
  const Tensor out = fp8_matmul(a, b, Tensor::scalar(1.0), Tensor::scalar(1.0), DType::kF32);
  for (double v : out.to_vector<double>()) EXPECT_EQ(v, 0.0);
}

TEST(Fp8Matmul, BadInputNamesTheProblem) {
  const Tensor a = Tensor::zeros({4, 8}, DType::kF8E4M3), s = Tensor::scalar(1.0);
  auto message = [](auto&& fn) {
    try {
      fn();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([&] {
              fp8_matmul(a, Tensor::zeros({3, 7}, DType::kF8E4M3), s, s);
            }).find("fp8_matmul: expects a [M, K] and b [N, K]"),
            std::string::npos);
  EXPECT_NE(message([&] {
              fp8_matmul(a, Tensor::zeros({3, 8}), s, s);
            }).find("f8e4m3 or f8e5m2"),
            std::string::npos);
  EXPECT_NE(message([&] { fp8_matmul(a, a, Tensor::zeros({2}), s); }).find("single f32 values"),
            std::string::npos);
  EXPECT_NE(message([&] { fp8_matmul(a, a, s, s, DType::kI32); }).find("out_dtype"),
            std::string::npos);
}

}  // namespace
}  // namespace chorus
