// sort / argsort / topk: forward against a naive insertion sort written here, NaN and tie
// handling, dtypes, layouts, errors and gradients.
#include "core/ops/sort.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/ops/elementwise.h"
#include "core/tensor/philox.h"
#include "test_util.h"

namespace chorus {
namespace {

using testing::uniform;
using V = std::vector<Tensor>;

const double kNaN = std::numeric_limits<double>::quiet_NaN();

// Values drawn from a few levels (many ties), with some NaNs mixed in.
Tensor tie_heavy(const Shape& shape, uint64_t seed, bool with_nan = true) {
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) {
    const int level = static_cast<int>(uniform_from_word(philox_word(seed, 3, i)) * 5);
    v[i] = with_nan && level == 4 ? kNaN : level - 1.5;
  }
  return Tensor::from_doubles(v, shape, DType::kF64);
}

// Reference order for one row: an insertion sort that moves an element left only past
// strictly "later" ones, so equal keys keep their input order. NaN ranks above every number.
std::vector<int64_t> naive_order(const std::vector<double>& row, bool descending) {
  auto rank_after = [&](double a, double b) {  // true when a must come after b
    const bool an = std::isnan(a), bn = std::isnan(b);
    if (an || bn) return descending ? (!an && bn) : (an && !bn);
    return descending ? a < b : a > b;
  };
  std::vector<int64_t> order;
  for (int64_t i = 0; i < static_cast<int64_t>(row.size()); ++i) {
    order.push_back(i);
    for (size_t j = order.size() - 1; j > 0 && rank_after(row[order[j - 1]], row[i]); --j) {
      std::swap(order[j - 1], order[j]);
    }
  }
  return order;
}

// Checks sort (or topk with k elements) of a 2-D tensor along `dim` against naive_order.
void expect_matches_naive(const Tensor& x, int64_t dim, bool descending, int64_t k,
                          const ValuesIndices& got) {
  const int64_t rows = x.size(1 - dim), n = x.size(dim);
  auto vx = x.to_vector<double>();
  auto vv = got.values.to_vector<double>();
  auto vi = got.indices.to_vector<int64_t>();
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> row;
    for (int64_t j = 0; j < n; ++j) row.push_back(vx[dim == 1 ? r * n + j : j * rows + r]);
    const auto order = naive_order(row, descending);
    for (int64_t j = 0; j < k; ++j) {
      const int64_t at = dim == 1 ? r * k + j : j * rows + r;
      ASSERT_EQ(vi[at], order[j]) << "row " << r << " position " << j;
      const double want = row[order[j]];
      EXPECT_TRUE(vv[at] == want || (std::isnan(vv[at]) && std::isnan(want)));
    }
  }
}

TEST(Sort, MatchesNaiveStableSortWithTiesAndNaN) {
  Tensor x = tie_heavy({5, 9}, 1);
  for (int64_t dim : {0, 1}) {
    for (bool descending : {false, true}) {
      ValuesIndices s = sort(x, dim, descending);
      ASSERT_EQ(s.values.shape(), x.shape());
      EXPECT_EQ(s.indices.dtype(), DType::kI64);
      expect_matches_naive(x, dim, descending, x.size(dim), s);
      EXPECT_EQ(argsort(x, dim, descending).to_vector<int64_t>(), s.indices.to_vector<int64_t>());
    }
  }
}

TEST(Sort, NaNIsLargest) {
  Tensor x = testing::from({1, kNaN, -2, kNaN, 0}, {5});
  EXPECT_EQ(sort(x).indices.to_vector<int64_t>(), (std::vector<int64_t>{2, 4, 0, 1, 3}));
  EXPECT_EQ(sort(x, 0, true).indices.to_vector<int64_t>(), (std::vector<int64_t>{1, 3, 0, 4, 2}));
  Tensor inf = testing::from({INFINITY, kNaN, -INFINITY}, {3});
  EXPECT_EQ(sort(inf).indices.to_vector<int64_t>(), (std::vector<int64_t>{2, 0, 1}));
}

TEST(Sort, IntegerBoolAndReducedPrecisionDtypes) {
  Tensor i = Tensor::from_vector<int32_t>({5, -3, 5, 0, 2, -3}, {6});
  ValuesIndices s = sort(i);
  EXPECT_EQ(s.values.dtype(), DType::kI32);
  EXPECT_EQ(s.values.to_vector<int32_t>(), (std::vector<int32_t>{-3, -3, 0, 2, 5, 5}));
  EXPECT_EQ(s.indices.to_vector<int64_t>(), (std::vector<int64_t>{1, 5, 3, 4, 0, 2}));
  // i64 values that differ below double precision still order correctly.
  const int64_t big = int64_t{1} << 60;
  Tensor l = Tensor::from_vector<int64_t>({big + 1, big, big + 2}, {3});
  EXPECT_EQ(sort(l, 0, true).values.to_vector<int64_t>(),
            (std::vector<int64_t>{big + 2, big + 1, big}));
  Tensor u = Tensor::from_vector<uint8_t>({200, 3, 255}, {3});
  EXPECT_EQ(sort(u).values.to_vector<uint8_t>(), (std::vector<uint8_t>{3, 200, 255}));
  Tensor b = Tensor::from_vector<bool>({true, false, true, false}, {4});
  ValuesIndices sb = sort(b, 0, true);
  EXPECT_EQ(sb.values.dtype(), DType::kBool);
  EXPECT_EQ(sb.values.to_vector<uint8_t>(), (std::vector<uint8_t>{1, 1, 0, 0}));
  EXPECT_EQ(sb.indices.to_vector<int64_t>(), (std::vector<int64_t>{0, 2, 1, 3}));
  Tensor h = Tensor::from_doubles({0.5, -1, 3, 0.25}, {4}, DType::kBF16);
  ValuesIndices sh = sort(h);
  EXPECT_EQ(sh.values.dtype(), DType::kBF16);
  EXPECT_EQ(sh.values.to_vector<double>(), (std::vector<double>{-1, 0.25, 0.5, 3}));
}

TEST(Sort, ThreeDimsNonContiguousAndEmpty) {
  Tensor x = tie_heavy({4, 3, 5}, 2).permute({2, 0, 1});  // [5, 4, 3], non-contiguous
  ValuesIndices s = sort(x, 1, true);
  ASSERT_EQ(s.values.shape(), (Shape{5, 4, 3}));
  EXPECT_TRUE(s.values.is_contiguous());
  for (int64_t a = 0; a < 5; ++a) {
    // Each [4, 3] slice sorted along its dim 0 matches the 2-D check.
    Tensor slice = x.select(0, a);
    ValuesIndices part{s.values.select(0, a), s.indices.select(0, a)};
    expect_matches_naive(slice, 0, true, 4, part);
  }
  EXPECT_EQ(sort(Tensor::zeros({3, 0}), 1).values.shape(), (Shape{3, 0}));
  EXPECT_EQ(sort(Tensor::zeros({0, 3}), 1).indices.shape(), (Shape{0, 3}));
  ValuesIndices sc = sort(Tensor::scalar(2.0));
  EXPECT_EQ(sc.values.shape(), Shape{});
  EXPECT_EQ(sc.indices.item(), 0.0);
  EXPECT_THROW(sort(x, 3), Error);
}

TEST(TopK, MatchesNaiveOrderForBothDirections) {
  Tensor x = tie_heavy({6, 11}, 3);
  for (int64_t dim : {0, 1}) {
    for (bool largest : {true, false}) {
      for (int64_t k : {int64_t{0}, int64_t{1}, int64_t{3}, x.size(dim)}) {
        ValuesIndices t = topk(x, k, dim, largest);
        Shape want = x.shape();
        want[dim] = k;
        ASSERT_EQ(t.values.shape(), want);
        expect_matches_naive(x, dim, largest, k, t);
      }
    }
  }
}

TEST(TopK, TiesPickLowerIndexFirstAndUnsortedKeepsInputOrder) {
  Tensor x = testing::from({2, 1, 2, 2, 1}, {5});
  EXPECT_EQ(topk(x, 2).indices.to_vector<int64_t>(), (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(topk(x, 3, 0, false).indices.to_vector<int64_t>(), (std::vector<int64_t>{1, 4, 0}));
  Tensor y = testing::from({0.1, 0.9, kNaN, 0.5, 0.7}, {5});
  EXPECT_EQ(topk(y, 3).indices.to_vector<int64_t>(), (std::vector<int64_t>{2, 1, 4}));
  EXPECT_EQ(topk(y, 3, -1, true, /*sorted=*/false).indices.to_vector<int64_t>(),
            (std::vector<int64_t>{1, 2, 4}));
  EXPECT_EQ(topk(y, 2, -1, false, false).indices.to_vector<int64_t>(),
            (std::vector<int64_t>{0, 3}));
  // Large rows take the nth_element path for big k and partial_sort for small k.
  Tensor big = uniform({2, 1000}, -1, 1, DType::kF64, 4);
  for (int64_t k : {int64_t{5}, int64_t{900}})
    expect_matches_naive(big, 1, true, k, topk(big, k, 1));
  Tensor i = Tensor::from_vector<int64_t>({3, 9, -4, 9}, {4});
  EXPECT_EQ(topk(i, 2).values.to_vector<int64_t>(), (std::vector<int64_t>{9, 9}));
}

TEST(TopK, Errors) {
  Tensor x = Tensor::zeros({2, 3});
  EXPECT_THROW(topk(x, 4), Error);
  EXPECT_THROW(topk(x, -1), Error);
  EXPECT_THROW(topk(x, 1, 2), Error);
  try {
    topk(x, 3, 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("topk: k = 3 is out of range for dim 0 of size 2"),
              std::string::npos)
        << e.what();
  }
}

TEST(Sort, IndicesAreNotDifferentiable) {
  Tensor x = uniform({4}, -1, 1, DType::kF64, 5);
  x.set_requires_grad();
  ValuesIndices s = sort(x);
  EXPECT_TRUE(s.values.requires_grad());
  EXPECT_FALSE(s.indices.requires_grad());
  ValuesIndices t = topk(x, 2);
  EXPECT_TRUE(t.values.requires_grad());
  EXPECT_FALSE(t.indices.requires_grad());
}

TEST(Sort, GradientsMatchFiniteDifferences) {
  // Distinct values, far enough apart that ±eps never reorders them.
  Tensor x = uniform({4, 5}, -1, 1, DType::kF64, 6);
  EXPECT_GRADCHECK([](const V& v) { return sort(v[0], 1).values; }, {x});
  EXPECT_GRADCHECK([](const V& v) { return sort(v[0], 0, true).values; }, {x});
  EXPECT_GRADCHECK([](const V& v) { return sort(v[0].t(), -1, true).values; }, {x});
  EXPECT_GRADCHECK([](const V& v) { return topk(v[0], 2, 1).values; }, {x});
  EXPECT_GRADCHECK([](const V& v) { return topk(v[0], 3, 0, false).values; }, {x});
  EXPECT_GRADCHECK([](const V& v) { return topk(v[0], 3, 1, true, false).values; }, {x});
  EXPECT_GRADCHECK([](const V& v) { return mul(topk(v[0], 2, 1).values, v[0].narrow(1, 0, 2)); },
                   {x});
  EXPECT_GRADCHECK([](const V& v) { return sort(v[0]).values; },
                   {Tensor::scalar(0.3, DType::kF64)});
}

}  // namespace
}  // namespace chorus
