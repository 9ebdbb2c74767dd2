// cuBLASLt GEMM (core/ops/cuda/blas/gemm.h) against a double-precision reference on the host:
// every transpose combination, odd sizes, strided and broadcast batches, the epilogues, FP8,
// plan reuse and error messages.
#include "core/ops/cuda/blas/gemm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "core/tensor/error.h"
#include "tests/cuda/vendor/device_data.h"

namespace chorus::cuda::test {
namespace {

using blas::Epilogue;
using blas::GemmArgs;

// op(A)[i, p] of a row-major operand stored with row stride ld.
double at(const std::vector<float>& x, int64_t off, int64_t ld, bool trans, int64_t i, int64_t p) {
  return trans ? x[off + p * ld + i] : x[off + i * ld + p];
}

double gelu_tanh(double x) {
  return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
}

// Reference C for every batch (dense [batch, m, ldc]); bias_grad (when asked) of batch 0.
std::vector<double> reference(const GemmArgs& g, const std::vector<float>& a,
                              const std::vector<float>& b, const std::vector<float>& c0,
                              const std::vector<float>& bias, std::vector<double>* bias_grad) {
  std::vector<double> c(c0.begin(), c0.end());
  for (int64_t bt = 0; bt < g.batch; ++bt) {
    for (int64_t i = 0; i < g.m; ++i) {
      for (int64_t j = 0; j < g.n; ++j) {
        double s = 0;
        for (int64_t p = 0; p < g.k; ++p) {
          s += at(a, bt * g.stride_a, g.lda, g.trans_a, i, p) *
               at(b, bt * g.stride_b, g.ldb, g.trans_b, p, j);
        }
        double& out = c[bt * g.stride_c + i * g.ldc + j];
        out = g.alpha * s + g.beta * out;
        if (g.epilogue == Epilogue::kBias || g.epilogue == Epilogue::kGeluBias) out += bias[j];
        if (g.epilogue == Epilogue::kGelu || g.epilogue == Epilogue::kGeluBias)
          out = gelu_tanh(out);
      }
    }
  }
  if (bias_grad) {
    bias_grad->assign(g.m, 0.0);
    for (int64_t i = 0; i < g.m; ++i) {
      for (int64_t p = 0; p < g.k; ++p) (*bias_grad)[i] += at(a, 0, g.lda, g.trans_a, i, p);
    }
  }
  return c;
}

struct Case {
  int64_t m, n, k;
  bool ta, tb;
  DType dtype;
  int64_t batch = 1;
  bool broadcast_a = false;
  Epilogue epi = Epilogue::kNone;
  float beta = 0.f;
};

void run_case(const Case& cs, uint64_t seed) {
  GemmArgs g;
  g.m = cs.m, g.n = cs.n, g.k = cs.k, g.trans_a = cs.ta, g.trans_b = cs.tb;
  g.lda = (cs.ta ? cs.m : cs.k) + 3;  // padded rows: strides are honoured, not assumed
  g.ldb = (cs.tb ? cs.k : cs.n) + 1;
  g.ldc = cs.n + 2;
  g.batch = cs.batch;
  const int64_t a_rows = cs.ta ? cs.k : cs.m, b_rows = cs.tb ? cs.n : cs.k;
  g.stride_a = cs.broadcast_a ? 0 : a_rows * g.lda;
  g.stride_b = b_rows * g.ldb + 5;
  g.stride_c = cs.m * g.ldc;
  g.ab_type = g.c_type = cs.dtype;
  g.beta = cs.beta;
  g.epilogue = cs.epi;
  g.op = "gemm_test";
  const DType t = cs.dtype;
  const auto a = random_values(a_rows * g.lda * (cs.broadcast_a ? 1 : cs.batch), t, seed);
  const auto b = random_values(g.stride_b * cs.batch, t, seed + 1);
  auto c0 = random_values(g.stride_c * cs.batch, t, seed + 2);
  const auto bias = random_values(cs.n, t, seed + 3);
  DeviceArray da(a, t), db(b, t), dc(c0, t), dbias(bias, t), dgrad(cs.m, t);
  g.bias = dbias.get();
  g.bias_grad = dgrad.get();
  if (cs.epi != Epilogue::kNone) ASSERT_TRUE(blas::gemm_supported(g));
  blas::gemm(g, da.get(), db.get(), dc.get(), nullptr);
  std::vector<double> grad_ref;
  const auto ref =
      reference(g, a, b, c0, bias, cs.epi == Epilogue::kBiasGrad ? &grad_ref : nullptr);
  const double err = normalised_error(dc.download(), ref);
  EXPECT_LT(err, tolerance(t)) << "m=" << cs.m << " n=" << cs.n << " k=" << cs.k << " ta=" << cs.ta
                               << " tb=" << cs.tb << " " << dtype_name(t);
  if (cs.epi == Epilogue::kBiasGrad) {
    EXPECT_LT(normalised_error(dgrad.download(), grad_ref), tolerance(t));
  }
}

TEST(CudaGemm, F32AllTransposesOddSizes) {
  int seed = 1;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) run_case({37, 53, 71, ta, tb, DType::kF32}, seed += 10);
  }
}

TEST(CudaGemm, HalfTypesAllTransposes) {
  int seed = 100;
  for (DType t : {DType::kBF16, DType::kF16}) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) run_case({64, 96, 200, ta, tb, t}, seed += 10);
    }
    run_case({1, 7, 13, false, false, t}, seed += 10);  // odd, tiny
  }
}

TEST(CudaGemm, StridedAndBroadcastBatches) {
  run_case({33, 17, 29, false, true, DType::kF32, 3}, 200);
  run_case({33, 17, 29, true, false, DType::kF32, 4, /*broadcast_a=*/true}, 210);
  run_case({64, 32, 48, false, false, DType::kBF16, 5}, 220);
}

TEST(CudaGemm, AccumulatesIntoCWithBeta) {
  run_case({40, 24, 16, false, false, DType::kF32, 1, false, Epilogue::kNone, 1.f}, 300);
}

TEST(CudaGemm, FusedEpilogues) {
  run_case({64, 128, 96, false, true, DType::kBF16, 1, false, Epilogue::kBias}, 400);
  run_case({64, 128, 96, false, true, DType::kBF16, 1, false, Epilogue::kGeluBias}, 410);
  run_case({64, 128, 96, false, true, DType::kF32, 1, false, Epilogue::kGelu}, 420);
  // linear backward: dW[out, in] = gᵀ · x with db = Σ_rows g, g [rows, out] read transposed
  run_case({128, 64, 256, true, false, DType::kBF16, 1, false, Epilogue::kBiasGrad}, 430);
}

TEST(CudaGemm, Fp8TnWithScales) {
  // e4m3 × e4m3 (cuBLASLt offers no e5m2 × e5m2), out bf16 or f32, scaled by scale_a·scale_b.
  for (DType out : {DType::kBF16, DType::kF32}) {
    const int64_t m = 64, n = 48, k = 96;
    const auto a = random_values(m * k, DType::kF8E4M3, 7);
    const auto b = random_values(n * k, DType::kF8E4M3, 8);
    // Each scale 16 bytes apart: cuBLASLt refused (NOT_SUPPORTED) a scale_b 4 bytes after
    // scale_a on the H200, while separately allocated scales ran.
    const std::vector<float> scales = {0.5f, 0.f, 0.f, 0.f, 3.f};
    DeviceArray da(a, DType::kF8E4M3), db(b, DType::kF8E4M3), dc(m * n, out),
        ds(scales, DType::kF32);
    GemmArgs g;
    g.m = m, g.n = n, g.k = k, g.trans_b = true, g.lda = k, g.ldb = k, g.ldc = n;
    g.ab_type = DType::kF8E4M3;
    g.c_type = out;
    g.scale_a = ds.as<float>();
    g.scale_b = ds.as<float>() + 4;
    g.op = "fp8_gemm_test";
    blas::gemm(g, da.get(), db.get(), dc.get(), nullptr);
    std::vector<double> ref(m * n, 0.0);
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t p = 0; p < k; ++p) s += double(a[i * k + p]) * b[j * k + p];
        ref[i * n + j] = s * 1.5;
      }
    }
    // FP8 tensor cores accumulate with fewer bits than f32 (relative error near 1e-4 was
    // measured for the f32 output on the H200), so f32 gets the FP8 product's bound, 1e-3.
    EXPECT_LT(normalised_error(dc.download(), ref), std::max(tolerance(out), 1e-3))
        << dtype_name(out);
  }
}

TEST(CudaGemm, Fp8ScalesMustBe16ByteAligned) {
  // cuBLASLt answered NOT_SUPPORTED on the H200 for a scale pointer 4 bytes past another; the
  // engine refuses it up front with a message that says why.
  DeviceArray da(random_values(64 * 32, DType::kF8E4M3, 1), DType::kF8E4M3);
  DeviceArray dc(64 * 64, DType::kF32), ds(std::vector<float>{1.f, 1.f}, DType::kF32);
  GemmArgs g;
  g.m = 64, g.n = 64, g.k = 32, g.trans_b = true, g.lda = 32, g.ldb = 32, g.ldc = 64;
  g.ab_type = DType::kF8E4M3;
  g.c_type = DType::kF32;
  g.scale_a = ds.as<float>();
  g.scale_b = ds.as<float>() + 1;
  g.op = "fp8_misaligned_scale";
  try {
    blas::gemm(g, da.get(), da.get(), dc.get(), nullptr);
    ADD_FAILURE() << "a misaligned FP8 scale was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("16-byte"), std::string::npos) << e.what();
  }
}

TEST(CudaGemm, RepeatedShapeReusesItsPlan) {
  run_case({31, 41, 59, false, false, DType::kF32}, 500);
  const int64_t plans = blas::gemm_plan_count();
  run_case({31, 41, 59, false, false, DType::kF32}, 510);
  EXPECT_EQ(blas::gemm_plan_count(), plans);
}

TEST(CudaGemm, BadArgumentsNameTheOpAndShapes) {
  GemmArgs g;
  g.m = 4, g.n = 5, g.k = 6, g.lda = 2, g.ldb = 5, g.ldc = 5, g.op = "linear";
  g.ab_type = g.c_type = DType::kF32;
  try {
    blas::gemm(g, nullptr, nullptr, nullptr, nullptr);
    FAIL() << "expected chorus::Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("linear"), std::string::npos) << msg;
    EXPECT_NE(msg.find("m=4, n=5, k=6"), std::string::npos) << msg;
  }
}

TEST(CudaGemm, EmptyInnerDimensionWritesZeros) {
  GemmArgs g;
  g.m = 3, g.n = 4, g.k = 0, g.lda = 1, g.ldb = 4, g.ldc = 4, g.op = "gemm_test";
  g.ab_type = g.c_type = DType::kF32;
  DeviceArray dc(12, DType::kF32);
  blas::gemm(g, nullptr, nullptr, dc.get(), nullptr);
  for (float v : dc.download()) EXPECT_EQ(v, 0.f);
}

}  // namespace
}  // namespace chorus::cuda::test
