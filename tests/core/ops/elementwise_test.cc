// Elementwise ops: forward against naive std:: loops, gradients against finite differences.
#include "core/ops/elementwise.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/ops/reduce.h"
#include "test_util.h"

namespace chorus {
namespace {

using testing::AllClose;
using testing::uniform;

// Applies a scalar function to every element: the independent reference.
template <class F>
Tensor naive_map(const Tensor& x, F f) {
  auto v = x.to_vector<double>();
  for (double& e : v) e = f(e);
  return Tensor::from_doubles(v, x.shape(), DType::kF64);
}

TEST(Elementwise, UnaryForwardMatchesStd) {
  Tensor x = uniform({3, 5}, -2, 2);
  Tensor pos = uniform({3, 5}, 0.1, 3);
  EXPECT_TRUE(AllClose(neg(x), naive_map(x, [](double v) { return -v; })));
  EXPECT_TRUE(AllClose(abs(x), naive_map(x, [](double v) { return std::fabs(v); })));
  EXPECT_TRUE(AllClose(exp(x), naive_map(x, [](double v) { return std::exp(v); })));
  EXPECT_TRUE(AllClose(log(pos), naive_map(pos, [](double v) { return std::log(v); })));
  EXPECT_TRUE(AllClose(sqrt(pos), naive_map(pos, [](double v) { return std::sqrt(v); })));
  EXPECT_TRUE(AllClose(rsqrt(pos), naive_map(pos, [](double v) { return 1 / std::sqrt(v); })));
  EXPECT_TRUE(AllClose(tanh(x), naive_map(x, [](double v) { return std::tanh(v); })));
  EXPECT_TRUE(AllClose(sigmoid(x), naive_map(x, [](double v) { return 1 / (1 + std::exp(-v)); })));
  EXPECT_TRUE(AllClose(relu(x), naive_map(x, [](double v) { return v > 0 ? v : 0; })));
  EXPECT_TRUE(AllClose(silu(x), naive_map(x, [](double v) { return v / (1 + std::exp(-v)); })));
  EXPECT_TRUE(AllClose(gelu(x), naive_map(x, [](double v) {
                         return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
                       })));
  EXPECT_TRUE(AllClose(gelu(x, GeluApprox::kTanh), naive_map(x, [](double v) {
                         return 0.5 * v *
                                (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
                       })));
  EXPECT_TRUE(AllClose(clamp(x, -0.5, 0.25),
                       naive_map(x, [](double v) { return std::min(0.25, std::max(-0.5, v)); })));
  EXPECT_TRUE(AllClose(pow(pos, 1.7), naive_map(pos, [](double v) { return std::pow(v, 1.7); })));
}

TEST(Elementwise, BinaryBroadcastsLikeNumpy) {
  Tensor a = uniform({2, 1, 4}, -1, 1, DType::kF64, 1);
  Tensor b = uniform({3, 1}, 0.5, 2, DType::kF64, 2);
  Tensor out = div(sub(mul(add(a, b), b), a), b);
  ASSERT_EQ(out.shape(), (Shape{2, 3, 4}));
  auto va = a.to_vector<double>(), vb = b.to_vector<double>(), vo = out.to_vector<double>();
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) {
        const double x = va[i * 4 + k], y = vb[j];
        EXPECT_NEAR(vo[(i * 3 + j) * 4 + k], ((x + y) * y - x) / y, 1e-12);
      }
}

TEST(Elementwise, PromotesDtypes) {
  EXPECT_EQ(promote_types(DType::kBF16, DType::kF32), DType::kF32);
  EXPECT_EQ(promote_types(DType::kBF16, DType::kF16), DType::kF32);
  EXPECT_EQ(promote_types(DType::kI32, DType::kI64), DType::kI64);
  EXPECT_EQ(promote_types(DType::kI64, DType::kBF16), DType::kBF16);
  Tensor h = Tensor::full({4}, 1.5, DType::kBF16);
  EXPECT_EQ(add(h, h).dtype(), DType::kBF16);
  EXPECT_EQ(add(h, h).to_vector<float>()[0], 3.0f);
  Tensor i = Tensor::arange(0, 4);
  EXPECT_EQ(mul(i, i).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 4, 9}));
}

TEST(Elementwise, ComparisonsAndWhere) {
  Tensor a = testing::from({1, 2, 3, 4}, {4});
  Tensor b = testing::from({4, 2, 1, 5}, {4});
  EXPECT_EQ(lt(a, b).dtype(), DType::kBool);
  EXPECT_EQ(lt(a, b).to_vector<uint8_t>(), (std::vector<uint8_t>{1, 0, 0, 1}));
  EXPECT_EQ(eq(a, b).to_vector<uint8_t>(), (std::vector<uint8_t>{0, 1, 0, 0}));
  EXPECT_EQ(ge(a, b).to_vector<uint8_t>(), (std::vector<uint8_t>{0, 1, 1, 0}));
  EXPECT_TRUE(AllClose(where(gt(a, b), a, b), testing::from({4, 2, 3, 5}, {4})));
  EXPECT_TRUE(AllClose(maximum(a, b), testing::from({4, 2, 3, 5}, {4})));
  EXPECT_TRUE(AllClose(minimum(a, b), testing::from({1, 2, 1, 4}, {4})));
}

TEST(Elementwise, GradientsMatchFiniteDifferences) {
  Tensor x = uniform({2, 3}, -2, 2, DType::kF64, 3);
  Tensor y = uniform({3}, 0.5, 2, DType::kF64, 4);
  Tensor pos = uniform({2, 3}, 0.3, 2, DType::kF64, 5);
  using V = std::vector<Tensor>;
  EXPECT_GRADCHECK([](const V& v) { return add(v[0], v[1]); }, {x, y});
  EXPECT_GRADCHECK([](const V& v) { return sub(v[0], v[1]); }, {x, y});
  EXPECT_GRADCHECK([](const V& v) { return mul(v[0], v[1]); }, {x, y});
  EXPECT_GRADCHECK([](const V& v) { return div(v[0], v[1]); }, {x, y});
  EXPECT_GRADCHECK([](const V& v) { return pow(v[0], v[1]); }, {pos, y});
  EXPECT_GRADCHECK([](const V& v) { return pow(v[0], 2.5); }, {pos});
  EXPECT_GRADCHECK([](const V& v) { return maximum(v[0], v[1]); }, {x, y});
  EXPECT_GRADCHECK([](const V& v) { return minimum(v[0], v[1]); }, {x, y});
  EXPECT_GRADCHECK([](const V& v) { return neg(v[0]); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return abs(v[0]); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return exp(v[0]); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return log(v[0]); }, {pos});
  EXPECT_GRADCHECK([](const V& v) { return sqrt(v[0]); }, {pos});
  EXPECT_GRADCHECK([](const V& v) { return rsqrt(v[0]); }, {pos});
  EXPECT_GRADCHECK([](const V& v) { return square(v[0]); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return tanh(v[0]); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return sigmoid(v[0]); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return relu(v[0]); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return gelu(v[0]); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return gelu(v[0], GeluApprox::kTanh); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return silu(v[0]); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return clamp(v[0], -0.5, 0.7); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return where(gt(v[0], 0.0), v[0], v[1]); }, {x, y});
  EXPECT_GRADCHECK([](const V& v) { return mean(v[0], {1}); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return sum(v[0], {0}, true); }, {x});
}

}  // namespace
}  // namespace chorus
