// softmax / log_softmax: forward against a naive double loop, gradients against finite
// differences, reduced precision and edge cases. PyTorch values: nn_reference_test.cc.
#include "core/ops/softmax.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/ops/elementwise.h"
#include "test_util.h"

namespace chorus {
namespace {

using testing::AllClose;
using testing::uniform;
using V = std::vector<Tensor>;

// Softmax (or log-softmax) of x over `dim`, one output element at a time, in double.
Tensor naive_softmax(const Tensor& x, int64_t dim, bool log) {
  const Shape& s = x.shape();
  const int64_t d = dim < 0 ? dim + x.dim() : dim;
  int64_t outer = 1, n = s[d], inner = 1;
  for (int64_t i = 0; i < d; ++i) outer *= s[i];
  for (int64_t i = d + 1; i < x.dim(); ++i) inner *= s[i];
  const auto v = x.to_vector<double>();
  std::vector<double> out(v.size());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t c = 0; c < inner; ++c) {
      auto at = [&](int64_t k) { return (o * n + k) * inner + c; };
      double m = -std::numeric_limits<double>::infinity();
      for (int64_t k = 0; k < n; ++k) m = std::max(m, v[at(k)]);
      double sum = 0;
      for (int64_t k = 0; k < n; ++k) sum += std::exp(v[at(k)] - m);
      for (int64_t k = 0; k < n; ++k) {
        out[at(k)] = log ? v[at(k)] - m - std::log(sum) : std::exp(v[at(k)] - m) / sum;
      }
    }
  }
  return Tensor::from_doubles(out, s, DType::kF64);
}

TEST(Softmax, MatchesNaiveLoopOverEveryDim) {
  // Row lengths around the vector width (8 floats, 4 doubles) exercise the tails.
  for (const Shape& shape : {Shape{3, 5, 7}, Shape{2, 17, 9}, Shape{4, 33}, Shape{1, 1, 8}}) {
    Tensor x = uniform(shape, -4, 4);
    for (int64_t dim = -static_cast<int64_t>(shape.size()); dim < 0; ++dim) {
      EXPECT_TRUE(AllClose(softmax(x, dim), naive_softmax(x, dim, false), 1e-14, 1e-12))
          << shape_str(shape) << " dim " << dim;
      EXPECT_TRUE(AllClose(log_softmax(x, dim), naive_softmax(x, dim, true), 1e-13, 1e-12))
          << shape_str(shape) << " dim " << dim;
      // f32: the vectorised exp is accurate to a few ulp.
      Tensor xf = x.to(DType::kF32);
      EXPECT_EQ(softmax(xf, dim).dtype(), DType::kF32);
      EXPECT_TRUE(AllClose(softmax(xf, dim), naive_softmax(xf, dim, false), 1e-6, 1e-5));
      EXPECT_TRUE(AllClose(log_softmax(xf, dim), naive_softmax(xf, dim, true), 1e-5, 1e-5));
    }
  }
}

TEST(Softmax, StableForLargeLogitsAndLongRows) {
  Tensor x = add(uniform({3, 1000}, -5, 5, DType::kF32, 3), 1000.0);
  Tensor y = softmax(x, -1);
  EXPECT_TRUE(AllClose(y, naive_softmax(x, -1, false), 1e-7, 1e-5));
  for (double v : y.to_vector<double>()) ASSERT_TRUE(std::isfinite(v));
  EXPECT_TRUE(AllClose(log_softmax(x, -1), naive_softmax(x, -1, true), 1e-4, 1e-5));
}

TEST(Softmax, MaskedEntriesGetZeroProbability) {
  const double inf = std::numeric_limits<double>::infinity();
  Tensor x = testing::from(
      {0.5, -inf, 1.5, -inf, 2.0, -1.0, -inf, -inf, 0.0, 3.0, -inf, 1.0, -inf, -inf, -inf, -inf},
      {2, 8}, DType::kF32);
  auto y = softmax(x, 1).to_vector<double>();
  EXPECT_EQ(y[1], 0.0);
  EXPECT_EQ(y[6], 0.0);
  EXPECT_TRUE(AllClose(softmax(x, 1), naive_softmax(x, 1, false), 1e-7, 1e-6));
  // A row of only -inf has no distribution: NaN, as in PyTorch.
  Tensor dead = Tensor::full({1, 9}, -inf, DType::kF32);
  for (double v : softmax(dead, 1).to_vector<double>()) EXPECT_TRUE(std::isnan(v));
  for (double v : softmax(dead, 0).to_vector<double>()) EXPECT_TRUE(std::isnan(v));
}

TEST(Softmax, NonContiguousAndZeroDimInputs) {
  Tensor x = uniform({6, 5}, -2, 2);
  Tensor xt = x.t();  // [5, 6] view
  EXPECT_TRUE(AllClose(softmax(xt, -1), naive_softmax(xt.contiguous(), -1, false), 1e-14));
  Tensor s = Tensor::scalar(3.0, DType::kF64);
  EXPECT_EQ(softmax(s, 0).item(), 1.0);
  EXPECT_EQ(log_softmax(s, -1).item(), 0.0);
  Tensor empty = Tensor::zeros({0, 4});
  EXPECT_EQ(softmax(empty, 1).shape(), (Shape{0, 4}));
  EXPECT_EQ(softmax(Tensor::zeros({3, 0}), 1).shape(), (Shape{3, 0}));
}

TEST(Softmax, Bf16InputGivesBf16CloseToF32) {
  Tensor x = uniform({4, 37}, -3, 3, DType::kF32, 11).to(DType::kBF16);
  Tensor xf = x.to(DType::kF32);  // the same (rounded) values
  Tensor y = softmax(x, -1);
  ASSERT_EQ(y.dtype(), DType::kBF16);
  EXPECT_TRUE(AllClose(y, softmax(xf, -1), 1e-3, 8e-3));  // bf16 keeps 8 significant bits
  EXPECT_TRUE(AllClose(log_softmax(x, 0), log_softmax(xf, 0), 1e-2, 8e-3));
}

TEST(Softmax, Bf16GradientCloseToF32) {
  for (bool log : {false, true}) {
    Tensor x = uniform({5, 70}, -3, 3, DType::kF32, 13).to(DType::kBF16).set_requires_grad();
    Tensor xf = x.detach().to(DType::kF32).set_requires_grad();
    Tensor g = uniform({5, 70}, -1, 1, DType::kF32, 14);
    (log ? log_softmax(x, 1) : softmax(x, 1)).backward(g.to(DType::kBF16));
    (log ? log_softmax(xf, 1) : softmax(xf, 1)).backward(g.to(DType::kBF16).to(DType::kF32));
    ASSERT_EQ(x.grad().dtype(), DType::kBF16);
    EXPECT_TRUE(AllClose(x.grad(), xf.grad(), 2e-2, 2e-2)) << log;
  }
}

TEST(Softmax, GradientsMatchFiniteDifferences) {
  Tensor x = uniform({3, 4, 5}, -2, 2);
  for (int64_t dim : {0, 1, 2}) {
    EXPECT_GRADCHECK([dim](const V& v) { return softmax(v[0], dim); }, {x});
    EXPECT_GRADCHECK([dim](const V& v) { return log_softmax(v[0], dim); }, {x});
  }
  Tensor wide = uniform({2, 11}, -2, 2, DType::kF64, 5);  // a tail after two full vectors
  EXPECT_GRADCHECK([](const V& v) { return log_softmax(v[0], -1); }, {wide});
  EXPECT_GRADCHECK([](const V& v) { return softmax(mul(v[0], 2.0), -1); }, {wide});
}

TEST(Softmax, RejectsBadInput) {
  EXPECT_THROW(softmax(Tensor::arange(0, 4), 0), Error);
  EXPECT_THROW(softmax(uniform({2, 3}), 2), Error);
  EXPECT_THROW(log_softmax(uniform({2, 3}), -3), Error);
}

}  // namespace
}  // namespace chorus
