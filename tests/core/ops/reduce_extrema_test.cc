// max/min (values + indices), amax/amin, argmax/argmin: forward against naive loops,
// tie and NaN rules, gradients, edge cases.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "reduce_naive.h"
#include "test_util.h"

namespace chorus {
namespace {

using testing::AllClose;
using testing::naive_reduce;
using testing::uniform;
using V = std::vector<Tensor>;

// x rounded down to integers (many ties).
Tensor floor_of(const Tensor& x) {
  auto v = x.to_vector<double>();
  for (double& e : v) e = std::floor(e);
  return Tensor::from_doubles(v, x.shape(), x.dtype());
}

double naive_max(const std::vector<double>& g) { return *std::max_element(g.begin(), g.end()); }
double naive_min(const std::vector<double>& g) { return *std::min_element(g.begin(), g.end()); }
double naive_argmax(const std::vector<double>& g) {
  return static_cast<double>(std::max_element(g.begin(), g.end()) - g.begin());  // first
}
double naive_argmin(const std::vector<double>& g) {
  return static_cast<double>(std::min_element(g.begin(), g.end()) - g.begin());
}

TEST(MaxMin, MatchNaiveLoopsOverEachDim) {
  // Rounded values produce ties; 19 elements leave a vector tail.
  Tensor x = floor_of(uniform({3, 19, 4}, -5, 5, DType::kF64, 3));
  for (int64_t dim : {0, 1, 2, -1}) {
    for (DType dt : {DType::kF64, DType::kF32}) {
      Tensor xd = x.to(dt);
      auto [mv, mi] = max(xd, dim);
      auto [nv, ni] = min(xd, dim);
      EXPECT_EQ(mv.dtype(), dt);
      EXPECT_EQ(mi.dtype(), DType::kI64);
      EXPECT_TRUE(AllClose(mv, naive_reduce(x, {dim}, naive_max), 0, 0)) << dim;
      EXPECT_TRUE(AllClose(nv, naive_reduce(x, {dim}, naive_min), 0, 0)) << dim;
      EXPECT_TRUE(AllClose(mi, naive_reduce(x, {dim}, naive_argmax), 0, 0)) << dim;
      EXPECT_TRUE(AllClose(ni, naive_reduce(x, {dim}, naive_argmin), 0, 0)) << dim;
      EXPECT_TRUE(AllClose(argmax(xd, dim), mi, 0, 0));
      EXPECT_TRUE(AllClose(argmin(xd, dim), ni, 0, 0));
    }
  }
  auto [kv, ki] = max(x, 1, /*keepdim=*/true);
  EXPECT_EQ(kv.shape(), (Shape{3, 1, 4}));
  EXPECT_EQ(ki.shape(), (Shape{3, 1, 4}));
}

TEST(MaxMin, TiesPickTheFirstAndNaNWins) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor x = testing::from({1, 3, 3, 2, /**/ 5, nan, 7, nan, /**/ 0, 0, 0, 0}, {3, 4});
  auto [v, i] = max(x, 1);
  EXPECT_EQ(i.to_vector<int64_t>(), (std::vector<int64_t>{1, 1, 0}));
  EXPECT_TRUE(std::isnan(v.to_vector<double>()[1]));
  EXPECT_EQ(min(x, 1).indices.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 0}));
  EXPECT_TRUE(std::isnan(amax(x).item()));
  EXPECT_TRUE(std::isnan(amin(x, {1}).to_vector<double>()[1]));
  EXPECT_EQ(amax(x, {1}).to_vector<double>()[0], 3.0);
}

TEST(AmaxAmin, MatchNaiveLoopsOverSeveralDims) {
  Tensor x = uniform({4, 3, 10}, -3, 3, DType::kF32, 9);
  for (const std::vector<int64_t>& dims :
       {std::vector<int64_t>{}, {0}, {2}, {0, 2}, {1, -1}, {0, 1, 2}}) {
    EXPECT_TRUE(AllClose(amax(x, dims), naive_reduce(x, dims, naive_max), 0, 0));
    EXPECT_TRUE(AllClose(amin(x, dims), naive_reduce(x, dims, naive_min), 0, 0));
  }
  EXPECT_EQ(amax(x, {0, 2}, true).shape(), (Shape{1, 3, 1}));
}

TEST(MaxMin, IntegerBf16AndZeroDimInputs) {
  Tensor xi = Tensor::from_vector<int64_t>({4, -2, 9, 9, 1, 0}, {2, 3});
  auto [v, i] = max(xi, 1);
  EXPECT_EQ(v.dtype(), DType::kI64);
  EXPECT_EQ(v.to_vector<int64_t>(), (std::vector<int64_t>{9, 9}));
  EXPECT_EQ(i.to_vector<int64_t>(), (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(amin(xi).to_vector<int64_t>(), (std::vector<int64_t>{-2}));
  Tensor xb = uniform({5, 7}, -1, 1, DType::kBF16);
  EXPECT_EQ(amax(xb, {1}).dtype(), DType::kBF16);
  EXPECT_TRUE(AllClose(amax(xb, {1}), naive_reduce(xb, {1}, naive_max), 0, 0));
  Tensor s = Tensor::scalar(2.5, DType::kF64);
  EXPECT_EQ(max(s, 0).values.item(), 2.5);
  EXPECT_EQ(max(s, -1).indices.item(), 0.0);
  EXPECT_EQ(argmin(s, 0).item(), 0.0);
}

TEST(MaxMin, GradientGoesToTheSelectedElement) {
  Tensor x = testing::from({1, 3, 3, 2, 8, 8}, {2, 3}).set_requires_grad();
  max(x, 1).values.backward(testing::from({10, 20}, {2}));
  EXPECT_TRUE(AllClose(x.grad(), testing::from({0, 10, 0, 0, 20, 0}, {2, 3}), 0, 0));
  // amax shares the gradient among ties.
  Tensor y = testing::from({1, 3, 3, 2, 8, 8}, {2, 3}).set_requires_grad();
  amax(y, {1}).backward(testing::from({10, 20}, {2}));
  EXPECT_TRUE(AllClose(y.grad(), testing::from({0, 5, 5, 0, 10, 10}, {2, 3}), 0, 0));
  Tensor z = testing::from({1, 3, 3, 2, 8, 8}, {2, 3}).set_requires_grad();
  amin(z).backward();
  EXPECT_TRUE(AllClose(z.grad(), testing::from({1, 0, 0, 0, 0, 0}, {2, 3}), 0, 0));
}

TEST(MaxMin, GradientsMatchFiniteDifferences) {
  Tensor x = uniform({3, 4, 5}, -2, 2);  // distinct values: no ties
  for (int64_t dim : {0, 1, 2}) {
    EXPECT_GRADCHECK([dim](const V& v) { return max(v[0], dim).values; }, {x});
    EXPECT_GRADCHECK([dim](const V& v) { return min(v[0], dim, true).values; }, {x});
  }
  EXPECT_GRADCHECK([](const V& v) { return amax(v[0], {0, 2}); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return amin(v[0], {1}, true); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return amax(v[0]); }, {x});
}

TEST(MaxMin, RejectsBadInput) {
  EXPECT_THROW(max(Tensor::zeros({3, 0}), 1), Error);
  EXPECT_THROW(amax(Tensor::zeros({0})), Error);
  EXPECT_THROW(argmax(uniform({2, 3}), 2), Error);
  EXPECT_THROW(min(Tensor::zeros({2}, DType::kBool), 0), Error);
  // Reducing a non-empty dim of an empty tensor is fine.
  EXPECT_EQ(max(Tensor::zeros({0, 3}), 1).values.shape(), (Shape{0}));
}

}  // namespace
}  // namespace chorus
