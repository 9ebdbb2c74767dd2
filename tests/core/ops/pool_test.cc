// Pooling ops against naive window loops, gradient checks, 1-D variants and bad inputs.
#include "core/ops/pool.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "test_util.h"

namespace chorus {
namespace {

using testing::AllClose;
using testing::uniform;
using V = std::vector<Tensor>;

struct Win {
  Size2 k, s, p, d{1, 1};
};

int64_t out_dim(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d) {
  return (in + 2 * p - d * (k - 1) - 1) / s + 1;
}

// Naive pools over x [planes..., H, W] (leading dims flattened), in double.
enum class Kind { kMax, kAvgPad, kAvgNoPad };
struct NaivePool {
  Tensor values, indices;
};
NaivePool naive_pool(const Tensor& x, const Win& w, Kind kind) {
  const int64_t h = x.size(-2), wd = x.size(-1), planes = x.numel() / (h * wd);
  const int64_t oh = out_dim(h, w.k[0], w.s[0], w.p[0], w.d[0]);
  const int64_t ow = out_dim(wd, w.k[1], w.s[1], w.p[1], w.d[1]);
  const auto v = x.to_vector<double>();
  std::vector<double> out;
  std::vector<int64_t> idx;
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        double best = -std::numeric_limits<double>::infinity(), sum = 0;
        int64_t best_i = -1, count = 0;
        for (int64_t ki = 0; ki < w.k[0]; ++ki)
          for (int64_t kj = 0; kj < w.k[1]; ++kj) {
            const int64_t iy = oy * w.s[0] - w.p[0] + ki * w.d[0];
            const int64_t ix = ox * w.s[1] - w.p[1] + kj * w.d[1];
            if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
            const double e = v[(p * h + iy) * wd + ix];
            if (best_i < 0 || e > best) best = e, best_i = iy * wd + ix;
            sum += e;
            ++count;
          }
        if (kind == Kind::kMax) {
          out.push_back(best);
          idx.push_back(best_i);
        } else {
          out.push_back(sum / (kind == Kind::kAvgPad ? w.k[0] * w.k[1] : count));
        }
      }
  Shape shape(x.shape().begin(), x.shape().end() - 2);
  shape.push_back(oh);
  shape.push_back(ow);
  NaivePool r{Tensor::from_doubles(out, shape, DType::kF64), Tensor()};
  if (kind == Kind::kMax) r.indices = Tensor::from_vector(idx, shape);
  return r;
}

Tensor naive_adaptive(const Tensor& x, Size2 out) {
  const int64_t h = x.size(-2), w = x.size(-1), planes = x.numel() / (h * w);
  const auto v = x.to_vector<double>();
  std::vector<double> r;
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t oy = 0; oy < out[0]; ++oy)
      for (int64_t ox = 0; ox < out[1]; ++ox) {
        const int64_t y0 = std::floor(double(oy * h) / out[0]);
        const int64_t y1 = std::ceil(double((oy + 1) * h) / out[0]);
        const int64_t x0 = std::floor(double(ox * w) / out[1]);
        const int64_t x1 = std::ceil(double((ox + 1) * w) / out[1]);
        double s = 0;
        for (int64_t y = y0; y < y1; ++y)
          for (int64_t xx = x0; xx < x1; ++xx) s += v[(p * h + y) * w + xx];
        r.push_back(s / double((y1 - y0) * (x1 - x0)));
      }
  Shape shape(x.shape().begin(), x.shape().end() - 2);
  shape.push_back(out[0]);
  shape.push_back(out[1]);
  return Tensor::from_doubles(r, shape, DType::kF64);
}

const std::vector<Win>& windows() {
  static const std::vector<Win> w = {
      {{2, 2}, {2, 2}, {0, 0}},         {{3, 3}, {2, 2}, {1, 1}},         {{3, 2}, {1, 2}, {1, 1}},
      {{2, 3}, {3, 1}, {0, 1}, {2, 1}}, {{3, 3}, {1, 1}, {1, 1}, {2, 2}},
  };
  return w;
}

TEST(Pool, MaxPoolMatchesNaive) {
  Tensor x = uniform({2, 3, 9, 8}, -1, 1, DType::kF32, 1);
  for (const Win& w : windows()) {
    ValuesIndices r = max_pool2d_with_indices(x, w.k, w.s, w.p, w.d);
    const NaivePool ref = naive_pool(x, w, Kind::kMax);
    EXPECT_TRUE(AllClose(r.values, ref.values, 0, 0));
    EXPECT_EQ(r.indices.dtype(), DType::kI64);
    EXPECT_EQ(r.indices.to_vector<int64_t>(), ref.indices.to_vector<int64_t>());
  }
  // Default stride = kernel; unbatched input.
  EXPECT_TRUE(AllClose(max_pool2d(x.select(0, 1), {2, 2}),
                       naive_pool(x.select(0, 1), windows()[0], Kind::kMax).values, 0, 0));
}

TEST(Pool, MaxPoolTiesAndNaN) {
  // Ties pick the first position of the window; NaN propagates.
  Tensor x = testing::from({1, 1, 1, 1, std::nan(""), 2, 3, 4, 5}, {1, 1, 3, 3});
  ValuesIndices r = max_pool2d_with_indices(x, {2, 2}, {1, 1});
  const auto v = r.values.to_vector<double>();
  EXPECT_TRUE(std::isnan(v[0]) && std::isnan(v[1]) && std::isnan(v[2]) && std::isnan(v[3]));
  Tensor flat = Tensor::ones({1, 1, 2, 2}, DType::kF64);
  EXPECT_EQ(max_pool2d_with_indices(flat, {2, 2}).indices.to_vector<int64_t>(),
            (std::vector<int64_t>{0}));
}

TEST(Pool, AvgPoolMatchesNaive) {
  Tensor x = uniform({2, 3, 9, 8}, -1, 1, DType::kF32, 2);
  for (const Win& w : windows()) {
    if (w.d != Size2{1, 1}) continue;
    EXPECT_TRUE(AllClose(avg_pool2d(x, w.k, w.s, w.p, true), naive_pool(x, w, Kind::kAvgPad).values,
                         1e-6, 1e-6));
    EXPECT_TRUE(AllClose(avg_pool2d(x, w.k, w.s, w.p, false),
                         naive_pool(x, w, Kind::kAvgNoPad).values, 1e-6, 1e-6));
  }
}

TEST(Pool, AdaptiveAvgPoolMatchesNaive) {
  Tensor x = uniform({2, 3, 7, 5}, -1, 1, DType::kF64, 3);
  for (Size2 out : {Size2{3, 2}, Size2{7, 5}, Size2{1, 1}, Size2{4, 4}, Size2{9, 6}}) {
    EXPECT_TRUE(AllClose(adaptive_avg_pool2d(x, out), naive_adaptive(x, out), 1e-13))
        << out[0] << "x" << out[1];
  }
  EXPECT_TRUE(AllClose(adaptive_avg_pool2d(x.select(0, 0), {3, 3}),
                       naive_adaptive(x.select(0, 0), {3, 3}), 1e-13));
}

TEST(Pool, OneDimensionalVariants) {
  Tensor x = uniform({2, 3, 11}, -1, 1, DType::kF64, 4);
  Tensor x4 = x.reshape({2, 3, 1, 11});
  const Win w{{1, 3}, {1, 2}, {0, 1}, {1, 2}};
  ValuesIndices r = max_pool1d_with_indices(x, 3, 2, 1, 2);
  const NaivePool ref = naive_pool(x4, w, Kind::kMax);
  EXPECT_TRUE(AllClose(r.values, ref.values.reshape(r.values.shape()), 0, 0));
  EXPECT_EQ(r.indices.to_vector<int64_t>(), ref.indices.to_vector<int64_t>());
  EXPECT_TRUE(AllClose(
      max_pool1d(x, 2),
      naive_pool(x4, {{1, 2}, {1, 2}, {0, 0}}, Kind::kMax).values.reshape({2, 3, 5}), 0, 0));
  const Win a{{1, 4}, {1, 3}, {0, 2}};
  EXPECT_TRUE(AllClose(avg_pool1d(x, 4, 3, 2, false),
                       naive_pool(x4, a, Kind::kAvgNoPad).values.reshape({2, 3, 4}), 1e-13));
  EXPECT_TRUE(AllClose(avg_pool1d(x, 4, 3, 2),
                       naive_pool(x4, a, Kind::kAvgPad).values.reshape({2, 3, 4}), 1e-13));
  EXPECT_TRUE(
      AllClose(adaptive_avg_pool1d(x, 4), naive_adaptive(x4, {1, 4}).reshape({2, 3, 4}), 1e-13));
}

TEST(Pool, Gradcheck) {
  Tensor x = uniform({2, 2, 6, 5}, -1, 1, DType::kF64, 5);
  for (const Win& w : windows()) {
    EXPECT_GRADCHECK([&](const V& v) { return max_pool2d(v[0], w.k, w.s, w.p, w.d); }, {x});
    if (w.d != Size2{1, 1}) continue;
    EXPECT_GRADCHECK([&](const V& v) { return avg_pool2d(v[0], w.k, w.s, w.p, true); }, {x});
    EXPECT_GRADCHECK([&](const V& v) { return avg_pool2d(v[0], w.k, w.s, w.p, false); }, {x});
  }
  EXPECT_GRADCHECK([](const V& v) { return adaptive_avg_pool2d(v[0], {4, 3}); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return adaptive_avg_pool2d(v[0], {8, 7}); }, {x});
  Tensor y = uniform({2, 3, 9}, -1, 1, DType::kF64, 6);
  EXPECT_GRADCHECK([](const V& v) { return max_pool1d(v[0], 3, 2, 1); }, {y});
  EXPECT_GRADCHECK([](const V& v) { return avg_pool1d(v[0], 3, 2, 1, false); }, {y});
  EXPECT_GRADCHECK([](const V& v) { return adaptive_avg_pool1d(v[0], 4); }, {y});
}

TEST(Pool, ReducedPrecisionKeepsDtype) {
  Tensor x = uniform({1, 2, 6, 6}, -1, 1, DType::kBF16, 7);
  EXPECT_EQ(max_pool2d(x, {2, 2}).dtype(), DType::kBF16);
  EXPECT_TRUE(
      AllClose(max_pool2d(x, {2, 2}), naive_pool(x, windows()[0], Kind::kMax).values, 0, 0));
  EXPECT_TRUE(AllClose(avg_pool2d(x, {2, 2}), naive_pool(x, windows()[0], Kind::kAvgPad).values,
                       1e-2, 1e-2));
}

TEST(Pool, BadInputsThrow) {
  Tensor x = Tensor::ones({1, 2, 5, 5});
  EXPECT_THROW(max_pool2d(x, {3, 3}, {1, 1}, {2, 2}), Error);  // padding > kernel / 2
  EXPECT_THROW(max_pool2d(x, {6, 6}), Error);                  // window larger than input
  EXPECT_THROW(avg_pool2d(Tensor::ones({5, 5}), {2, 2}), Error);
  EXPECT_THROW(avg_pool2d(x, {0, 2}), Error);
  EXPECT_THROW(max_pool2d(Tensor::ones({1, 2, 5, 5}, DType::kI32), {2, 2}), Error);
  EXPECT_THROW(adaptive_avg_pool2d(x, {0, 2}), Error);
  EXPECT_THROW(max_pool1d(x, 2), Error);
}

}  // namespace
}  // namespace chorus
