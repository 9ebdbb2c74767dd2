// cumsum: forward against a naive running sum, dtypes, f32 accuracy, layouts, gradients.
#include "core/ops/scan.h"

#include <gtest/gtest.h>

#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "test_util.h"

namespace chorus {
namespace {

using testing::AllClose;
using testing::uniform;
using V = std::vector<Tensor>;

TEST(Cumsum, MatchesNaiveRunningSumForEveryDim) {
  const Shape s{3, 4, 5};
  Tensor x = uniform(s, -1, 1, DType::kF64, 1);
  auto vx = x.to_vector<double>();
  for (int64_t dim = 0; dim < 3; ++dim) {
    std::vector<double> want(vx.size());
    for (int64_t i = 0; i < s[0]; ++i)
      for (int64_t j = 0; j < s[1]; ++j)
        for (int64_t k = 0; k < s[2]; ++k) {
          const int64_t c[3] = {i, j, k};
          double acc = 0;
          for (int64_t t = 0; t <= c[dim]; ++t) {
            int64_t p[3] = {i, j, k};
            p[dim] = t;
            acc += vx[(p[0] * s[1] + p[1]) * s[2] + p[2]];
          }
          want[(i * s[1] + j) * s[2] + k] = acc;
        }
    EXPECT_TRUE(AllClose(cumsum(x, dim), testing::from(want, s), 1e-12, 1e-12)) << "dim " << dim;
    EXPECT_TRUE(AllClose(cumsum(x, dim - 3), testing::from(want, s), 1e-12, 1e-12));
  }
}

TEST(Cumsum, NonContiguousInput) {
  Tensor x = uniform({4, 6}, -1, 1, DType::kF64, 2);
  Tensor t = x.t().slice(0, 0, 6, 2);  // [3, 4], non-contiguous
  EXPECT_TRUE(AllClose(cumsum(t, 1), cumsum(t.contiguous(), 1), 0, 0));
  auto vt = t.to_vector<double>(), vo = cumsum(t, 0).to_vector<double>();
  for (int j = 0; j < 4; ++j) EXPECT_NEAR(vo[8 + j], vt[j] + vt[4 + j] + vt[8 + j], 1e-14);
}

TEST(Cumsum, Dtypes) {
  Tensor i = Tensor::from_vector<int32_t>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor ci = cumsum(i, 1);
  EXPECT_EQ(ci.dtype(), DType::kI64);  // integers widen, as in PyTorch
  EXPECT_EQ(ci.to_vector<int64_t>(), (std::vector<int64_t>{1, 3, 6, 4, 9, 15}));
  const int64_t big = int64_t{1} << 60;
  EXPECT_EQ(cumsum(Tensor::from_vector<int64_t>({big, 1, 1}, {3}), 0).to_vector<int64_t>(),
            (std::vector<int64_t>{big, big + 1, big + 2}));
  Tensor b = Tensor::from_vector<bool>({true, false, true}, {3});
  EXPECT_EQ(cumsum(b, 0).to_vector<int64_t>(), (std::vector<int64_t>{1, 1, 2}));
  Tensor h = Tensor::full({4}, 0.5, DType::kBF16);
  EXPECT_EQ(cumsum(h, 0).dtype(), DType::kBF16);
  EXPECT_EQ(cumsum(h, 0).to_vector<double>(), (std::vector<double>{0.5, 1, 1.5, 2}));
  EXPECT_EQ(cumsum(Tensor::ones({3}, DType::kF32), 0).dtype(), DType::kF32);
}

TEST(Cumsum, F32AccumulatesInDouble) {
  // 2^20 additions of 0.1f: a float accumulator drifts by ~3%; a double one stays exact to
  // the f32 rounding of the true sum.
  const int64_t n = int64_t{1} << 20;
  Tensor x = Tensor::full({n}, 0.1, DType::kF32);
  const double tenth = static_cast<double>(0.1f);
  auto v = cumsum(x, 0).to_vector<double>();
  EXPECT_EQ(v.back(), static_cast<double>(static_cast<float>(tenth * n)));
  EXPECT_EQ(v[n / 2 - 1], static_cast<double>(static_cast<float>(tenth * (n / 2))));
}

TEST(Cumsum, EmptyScalarAndErrors) {
  EXPECT_EQ(cumsum(Tensor::zeros({0, 3}), 0).shape(), (Shape{0, 3}));
  EXPECT_EQ(cumsum(Tensor::zeros({2, 0}), 0).shape(), (Shape{2, 0}));
  EXPECT_EQ(cumsum(Tensor::scalar(2.5, DType::kF64), 0).item(), 2.5);
  EXPECT_THROW(cumsum(Tensor::zeros({2, 3}), 2), Error);
}

TEST(Cumsum, GradientIsReverseCumsum) {
  Tensor x = uniform({4}, -1, 1, DType::kF64, 3);
  x.set_requires_grad();
  cumsum(x, 0).backward(testing::from({1, 2, 3, 4}, {4}));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{10, 9, 7, 4}));
}

TEST(Cumsum, GradientsMatchFiniteDifferences) {
  Tensor x = uniform({3, 4, 2}, -1, 1, DType::kF64, 4);
  EXPECT_GRADCHECK([](const V& v) { return cumsum(v[0], 0); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return cumsum(v[0], 1); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return cumsum(v[0], -1); }, {x});
  EXPECT_GRADCHECK(
      [](const V& v) { return mul(cumsum(v[0].transpose(0, 1), 0), v[0].transpose(0, 1)); }, {x});
  // Two scans in a row: the backward runs the reverse scan twice.
  EXPECT_GRADCHECK([](const V& v) { return cumsum(cumsum(v[0], 1), 1); }, {x});
}

}  // namespace
}  // namespace chorus
