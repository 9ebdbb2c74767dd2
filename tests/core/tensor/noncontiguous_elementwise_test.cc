// Elementwise ops on non-contiguous operands (transposed, stepped slices, expanded, offset
// views): results must equal the same op on contiguous copies, checked against a naive loop
// written here over the logical elements.
#include <gtest/gtest.h>

#include <cmath>

#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "core/tensor/tensor.h"
#include "test_util.h"

namespace chorus {
namespace {

using testing::AllClose;
using testing::uniform;
using V = std::vector<Tensor>;

// Applies f to the logical (row-major) elements of a and b, which must share a shape.
template <class F>
std::vector<double> naive_binary(const Tensor& a, const Tensor& b, F f) {
  auto va = a.to_vector<double>(), vb = b.to_vector<double>();
  std::vector<double> out(va.size());
  for (size_t i = 0; i < va.size(); ++i) out[i] = f(va[i], vb[i]);
  return out;
}

TEST(NonContiguousElementwise, TransposedAndSlicedOperands) {
  Tensor base = uniform({6, 8}, -2, 2, DType::kF64, 21);
  Tensor other = uniform({8, 6}, 0.5, 2, DType::kF64, 22);
  Tensor t = base.t();  // [8, 6], strides (1, 8)
  ASSERT_FALSE(t.is_contiguous());
  Tensor out = add(t, other);
  EXPECT_EQ(out.to_vector<double>(),
            naive_binary(t, other, [](double x, double y) { return x + y; }));
  EXPECT_TRUE(AllClose(mul(t, other), mul(t.contiguous(), other), 0, 0));
  EXPECT_TRUE(AllClose(div(other, t), mul(other, rdiv(1.0, t.contiguous())), 1e-12, 1e-12));

  // Stepped slices on both sides, with a non-zero storage offset.
  Tensor s1 = base.slice(0, 1, 6, 2).slice(1, 0, 8, 3);  // [3, 3]
  Tensor s2 = other.slice(0, 2, 8, 2).slice(1, 3, 6);    // [3, 3]
  ASSERT_FALSE(s1.is_contiguous());
  ASSERT_NE(s2.offset(), 0);
  EXPECT_EQ(sub(s1, s2).to_vector<double>(),
            naive_binary(s1, s2, [](double x, double y) { return x - y; }));
  EXPECT_EQ(maximum(s1, s2).to_vector<double>(),
            naive_binary(s1, s2, [](double x, double y) { return std::max(x, y); }));
}

TEST(NonContiguousElementwise, UnaryOnPermutedInput) {
  Tensor base = uniform({2, 3, 4}, -2, 2, DType::kF64, 23);
  Tensor p = base.permute({2, 0, 1});
  Tensor e = exp(p);
  ASSERT_EQ(e.shape(), (Shape{4, 2, 3}));
  EXPECT_TRUE(e.is_contiguous());
  auto vp = p.to_vector<double>();
  auto ve = e.to_vector<double>();
  for (size_t i = 0; i < vp.size(); ++i) EXPECT_DOUBLE_EQ(ve[i], std::exp(vp[i]));
  EXPECT_TRUE(AllClose(tanh(p), tanh(p.contiguous()), 0, 0));
  EXPECT_TRUE(AllClose(clamp(p, -0.5, 0.5), clamp(p.contiguous(), -0.5, 0.5), 0, 0));
}

TEST(NonContiguousElementwise, ExpandedAndBroadcastOperands) {
  Tensor col = uniform({4, 1}, -1, 1, DType::kF64, 24);
  Tensor row = uniform({1, 5}, -1, 1, DType::kF64, 25);
  Tensor a = col.expand({4, 5});  // stride 0 in dim 1
  Tensor b = row.expand({4, 5});  // stride 0 in dim 0
  EXPECT_EQ(mul(a, b).to_vector<double>(),
            naive_binary(a, b, [](double x, double y) { return x * y; }));
  // A transposed operand broadcast against a stepped slice.
  Tensor m = uniform({5, 4}, -1, 1, DType::kF64, 26).t();               // [4, 5]
  Tensor v = uniform({10}, -1, 1, DType::kF64, 27).slice(0, 0, 10, 2);  // [5], stride 2
  Tensor got = add(m, v);
  Tensor want = add(m.contiguous(), v.contiguous());
  EXPECT_TRUE(AllClose(got, want, 0, 0));
  auto vm = m.to_vector<double>(), vv = v.to_vector<double>(), vg = got.to_vector<double>();
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 5; ++j) EXPECT_EQ(vg[i * 5 + j], vm[i * 5 + j] + vv[j]);
  // where() with all three operands non-contiguous.
  Tensor c = gt(m, 0.0);
  EXPECT_TRUE(AllClose(where(c, m, b), where(c, m.contiguous(), b.contiguous()), 0, 0));
}

TEST(NonContiguousElementwise, IntegerAndReducedPrecisionViews) {
  Tensor i = Tensor::arange(0, 12).reshape({3, 4});
  Tensor it = i.t();
  EXPECT_EQ(add(it, it).to_vector<int64_t>(),
            (std::vector<int64_t>{0, 8, 16, 2, 10, 18, 4, 12, 20, 6, 14, 22}));
  Tensor h = Tensor::arange(0, 12, 1, DType::kBF16).reshape({3, 4}).slice(1, 1, 4, 2);
  Tensor hs = mul(h, h);
  EXPECT_EQ(hs.dtype(), DType::kBF16);
  EXPECT_EQ(hs.to_vector<double>(), (std::vector<double>{1, 9, 25, 49, 81, 121}));
}

TEST(NonContiguousElementwise, GradientsThroughNonContiguousInputs) {
  Tensor x = uniform({3, 4}, -1, 1, DType::kF64, 28);
  Tensor y = uniform({4, 3}, 0.5, 1.5, DType::kF64, 29);
  EXPECT_GRADCHECK([](const V& v) { return mul(v[0].t(), v[1]); }, {x, y});
  EXPECT_GRADCHECK([](const V& v) { return div(v[0].slice(1, 0, 4, 2), v[1].t().slice(1, 1, 3)); },
                   {x, y});
  EXPECT_GRADCHECK([](const V& v) { return exp(v[0].permute({1, 0})); }, {x});
  EXPECT_GRADCHECK(
      [](const V& v) {
        return add(v[0].select(1, 2).unsqueeze(1).expand({3, 5}), 1.0);
      },
      {x});
  EXPECT_GRADCHECK([](const V& v) { return sum(mul(v[0].t(), v[0].t()), {0}); }, {x});
}

}  // namespace
}  // namespace chorus
