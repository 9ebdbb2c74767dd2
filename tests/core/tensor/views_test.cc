// Tensor views (view, reshape, permute, transpose, slice, narrow, select, expand, squeeze,
// unsqueeze, flatten) and copies (contiguous, to(dtype)): values against index arithmetic done
// here on the base buffer, storage sharing, errors, and gradients by finite differences.
#include <gtest/gtest.h>

#include <cmath>

#include "core/autograd/node.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "core/tensor/tensor.h"
#include "test_util.h"

namespace chorus {
namespace {

using testing::AllClose;
using testing::uniform;
using V = std::vector<Tensor>;

// 0, 1, 2, ... as f64 in `shape` (contiguous): element values equal their flat offsets, so a
// view's values reveal which base elements it reads.
Tensor iota(const Shape& shape) {
  return Tensor::arange(0, shape_numel(shape), 1, DType::kF64).reshape(shape);
}

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

bool shares_storage(const Tensor& a, const Tensor& b) { return a.storage() == b.storage(); }

TEST(Views, ViewAndReshapeShareStorageAndInferMinusOne) {
  Tensor x = iota({2, 3, 4});
  Tensor v = x.view({6, -1});
  EXPECT_EQ(v.shape(), (Shape{6, 4}));
  EXPECT_TRUE(shares_storage(v, x));
  EXPECT_EQ(values(v), values(x));
  Tensor r = x.reshape({-1});
  EXPECT_EQ(r.shape(), (Shape{24}));
  EXPECT_TRUE(shares_storage(r, x));
  EXPECT_THROW(x.view({-1, -1}), Error);
  EXPECT_THROW(x.view({5, 5}), Error);
  EXPECT_THROW(x.view({-1, 5}), Error);
  EXPECT_THROW(x.view({-2, 12}), Error);
  // A zero-size tensor can be viewed to any zero-size shape but -1 cannot be inferred.
  Tensor e = Tensor::zeros({0, 3});
  EXPECT_EQ(e.view({3, 0}).shape(), (Shape{3, 0}));
  EXPECT_THROW(e.view({-1, 0}), Error);
}

TEST(Views, ViewOfNonContiguousTensor) {
  Tensor t = iota({2, 3}).t();  // [3, 2]: 0 3 / 1 4 / 2 5
  EXPECT_THROW(t.view({6}), Error);
  // Viewing as its own shape is allowed and must keep reading the transposed elements.
  EXPECT_EQ(values(t.view({3, 2})), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(values(t.view({-1, 2})), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  // reshape copies instead.
  Tensor r = t.reshape({6});
  EXPECT_FALSE(shares_storage(r, t));
  EXPECT_EQ(values(r), (std::vector<double>{0, 3, 1, 4, 2, 5}));
}

TEST(Views, PermuteAndTransposeMatchIndexArithmetic) {
  const Shape s{2, 3, 4};
  Tensor x = iota(s);
  Tensor p = x.permute({2, 0, 1});
  ASSERT_EQ(p.shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(p.strides(), (Shape{1, 12, 4}));
  EXPECT_TRUE(shares_storage(p, x));
  std::vector<double> want;
  for (int k = 0; k < 4; ++k)
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j) want.push_back(i * 12 + j * 4 + k);
  EXPECT_EQ(values(p), want);
  EXPECT_EQ(values(x.permute({-1, 0, 1})), want);

  want.clear();
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 4; ++k)
      for (int j = 0; j < 3; ++j) want.push_back(i * 12 + j * 4 + k);
  EXPECT_EQ(values(x.transpose(1, 2)), want);
  EXPECT_EQ(values(x.transpose(-1, -2)), want);
  EXPECT_EQ(values(x.transpose(1, 1)), values(x));

  EXPECT_THROW(x.permute({0, 1}), Error);
  EXPECT_THROW(x.permute({0, 1, 1}), Error);
  EXPECT_THROW(x.permute({0, 1, 3}), Error);
  EXPECT_THROW(x.transpose(0, 3), Error);
  // A scalar transposes to itself.
  Tensor sc = Tensor::scalar(2.0, DType::kF64);
  EXPECT_EQ(sc.transpose(0, -1).item(), 2.0);
}

TEST(Views, SliceWithStepMatchesIndexArithmetic) {
  Tensor x = iota({3, 10});
  struct Case {
    int64_t start, end, step;
  };
  for (Case c : {Case{0, 10, 1}, Case{1, 10, 3}, Case{0, 10, 4}, Case{-7, -1, 2}, Case{2, 100, 5},
                 Case{-100, 3, 1}, Case{5, 2, 1}, Case{9, 10, 7}, Case{0, 0, 2}}) {
    Tensor s = x.slice(1, c.start, c.end, c.step);
    int64_t lo = c.start < 0 ? c.start + 10 : c.start;
    int64_t hi = c.end < 0 ? c.end + 10 : c.end;
    lo = std::clamp<int64_t>(lo, 0, 10);
    hi = std::clamp<int64_t>(hi, lo, 10);
    std::vector<double> want;
    for (int r = 0; r < 3; ++r)
      for (int64_t j = lo; j < hi; j += c.step) want.push_back(r * 10 + j);
    EXPECT_EQ(values(s), want) << c.start << ":" << c.end << ":" << c.step;
    EXPECT_EQ(s.size(1) * 3, static_cast<int64_t>(want.size()));
    EXPECT_TRUE(shares_storage(s, x));
  }
  // Slicing the leading dim with a step, then a slice of the slice.
  Tensor s = x.slice(0, 0, 3, 2).slice(1, 1, 8, 3);
  EXPECT_EQ(values(s), (std::vector<double>{1, 4, 7, 21, 24, 27}));
  EXPECT_THROW(x.slice(1, 0, 5, 0), Error);
  EXPECT_THROW(x.slice(1, 0, 5, -1), Error);
  EXPECT_THROW(x.slice(2, 0, 1), Error);
  EXPECT_THROW(Tensor::scalar(1.0).slice(0, 0, 1), Error);
}

TEST(Views, NarrowAndSelect) {
  Tensor x = iota({4, 5});
  EXPECT_EQ(values(x.narrow(1, 2, 2)), (std::vector<double>{2, 3, 7, 8, 12, 13, 17, 18}));
  EXPECT_EQ(x.narrow(0, 4, 0).shape(), (Shape{0, 5}));
  EXPECT_THROW(x.narrow(1, 4, 2), Error);
  EXPECT_THROW(x.narrow(1, -1, 1), Error);

  Tensor row = x.select(0, 2);
  EXPECT_EQ(row.shape(), (Shape{5}));
  EXPECT_EQ(values(row), (std::vector<double>{10, 11, 12, 13, 14}));
  EXPECT_EQ(values(x.select(1, -1)), (std::vector<double>{4, 9, 14, 19}));
  EXPECT_EQ(x.select(0, 1).select(0, 3).item(), 8.0);
  EXPECT_THROW(x.select(0, 4), Error);
  EXPECT_THROW(x.select(1, -6), Error);
  EXPECT_THROW(Tensor::scalar(1.0).select(0, 0), Error);
  EXPECT_THROW(Tensor::scalar(1.0).size(0), Error);
}

TEST(Views, ExpandUsesZeroStrides) {
  Tensor x = iota({3, 1});
  Tensor e = x.expand({2, 3, 4});
  EXPECT_EQ(e.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(e.strides(), (Shape{0, 1, 0}));
  EXPECT_TRUE(shares_storage(e, x));
  std::vector<double> want;
  for (int b = 0; b < 2; ++b)
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 4; ++j) want.push_back(i);
  EXPECT_EQ(values(e), want);
  EXPECT_EQ(x.expand({-1, 2}).shape(), (Shape{3, 2}));
  EXPECT_EQ(x.expand({3, 0}).shape(), (Shape{3, 0}));
  EXPECT_THROW(x.expand({4, 2}), Error);
  EXPECT_THROW(x.expand({2}), Error);
  EXPECT_THROW(x.expand({-1, 3, 2}), Error);
  EXPECT_EQ(values(Tensor::scalar(5.0).expand({2, 2})), (std::vector<double>{5, 5, 5, 5}));
}

TEST(Views, SqueezeUnsqueezeFlatten) {
  Tensor x = iota({2, 1, 3, 1});
  EXPECT_EQ(x.squeeze().shape(), (Shape{2, 3}));
  EXPECT_EQ(x.squeeze(1).shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(x.squeeze(-1).shape(), (Shape{2, 1, 3}));
  EXPECT_EQ(x.squeeze(0).shape(), x.shape());  // size 2: no-op
  EXPECT_EQ(values(x.squeeze()), values(x));
  EXPECT_EQ(x.unsqueeze(0).shape(), (Shape{1, 2, 1, 3, 1}));
  EXPECT_EQ(x.unsqueeze(-1).shape(), (Shape{2, 1, 3, 1, 1}));
  EXPECT_EQ(x.unsqueeze(2).shape(), (Shape{2, 1, 1, 3, 1}));
  EXPECT_THROW(x.unsqueeze(5), Error);
  EXPECT_EQ(Tensor::scalar(1.0).unsqueeze(0).shape(), (Shape{1}));

  // Unsqueeze of a non-contiguous tensor keeps reading the right elements.
  Tensor t = iota({2, 3}).t().unsqueeze(1);
  EXPECT_EQ(t.shape(), (Shape{3, 1, 2}));
  EXPECT_EQ(values(t), (std::vector<double>{0, 3, 1, 4, 2, 5}));

  Tensor y = iota({2, 3, 4, 5});
  EXPECT_EQ(y.flatten().shape(), (Shape{120}));
  EXPECT_EQ(y.flatten(1).shape(), (Shape{2, 60}));
  EXPECT_EQ(y.flatten(1, 2).shape(), (Shape{2, 12, 5}));
  EXPECT_EQ(y.flatten(-2).shape(), (Shape{2, 3, 20}));
  EXPECT_THROW(y.flatten(2, 1), Error);
  EXPECT_EQ(Tensor::scalar(3.0).flatten().shape(), (Shape{1}));
  // Flattening a permuted tensor copies in the permuted order.
  EXPECT_EQ(values(iota({2, 3}).t().flatten()), (std::vector<double>{0, 3, 1, 4, 2, 5}));
}

TEST(Views, ContiguousAndClone) {
  Tensor x = iota({3, 4});
  EXPECT_TRUE(x.contiguous().is_same(x));
  Tensor t = x.t();
  EXPECT_FALSE(t.is_contiguous());
  Tensor c = t.contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_FALSE(shares_storage(c, x));
  EXPECT_EQ(values(c), values(t));
  // A stepped slice and an expanded tensor are not contiguous either.
  Tensor s = x.slice(1, 0, 4, 2);
  EXPECT_FALSE(s.is_contiguous());
  EXPECT_EQ(values(s.contiguous()), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_FALSE(x.slice(0, 0, 1).expand({2, 4}).is_contiguous());
  // Size-1 dims do not break contiguity whatever their stride.
  EXPECT_TRUE(x.select(0, 1).unsqueeze(0).is_contiguous());
  Tensor k = x.clone();
  EXPECT_FALSE(shares_storage(k, x));
  EXPECT_EQ(values(k), values(x));
}

TEST(Views, ToDtypeConverts) {
  Tensor x = testing::from({-2.7, -0.5, 0.0, 0.5, 1.5, 300.25}, {6});
  EXPECT_TRUE(x.to(DType::kF64).is_same(x));
  EXPECT_EQ(x.to(DType::kI64).to_vector<int64_t>(),
            (std::vector<int64_t>{-2, 0, 0, 0, 1, 300}));  // truncation toward zero
  EXPECT_EQ(x.to(DType::kBool).to_vector<uint8_t>(), (std::vector<uint8_t>{1, 1, 0, 1, 1, 1}));
  EXPECT_EQ(x.to(DType::kF32).dtype(), DType::kF32);
  EXPECT_TRUE(AllClose(x.to(DType::kF32), x, 0, 1e-7));
  // bf16 keeps 8 significant bits: 300.25 rounds to 300.
  EXPECT_EQ(x.to(DType::kBF16).to_vector<double>()[5], 300.0);
  // Conversions of non-contiguous tensors keep their logical order.
  Tensor t = iota({2, 3}).t();
  EXPECT_EQ(t.to(DType::kI32).to_vector<int32_t>(), (std::vector<int32_t>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(t.to(DType::kF32).to_vector<double>(), (std::vector<double>{0, 3, 1, 4, 2, 5}));
}

TEST(Views, ToVectorKeepsLargeIntegersExact) {
  // Values beyond 2^53 are not representable in double: reading them must not go through it.
  const int64_t big = (int64_t{1} << 60) + 3;
  Tensor x = Tensor::from_vector<int64_t>({big, 1, -big, 2}, {2, 2}).t();
  EXPECT_EQ(x.to_vector<int64_t>(), (std::vector<int64_t>{big, -big, 1, 2}));
  EXPECT_EQ(x.contiguous().to_vector<int64_t>(), (std::vector<int64_t>{big, -big, 1, 2}));
}

TEST(Views, IntegerCastIsNotDifferentiable) {
  Tensor x = uniform({3}, 0, 4);
  x.set_requires_grad();
  Tensor i = x.to(DType::kI64);
  EXPECT_FALSE(i.requires_grad());
  EXPECT_TRUE(x.to(DType::kF32).requires_grad());
}

TEST(Views, GradientsMatchFiniteDifferences) {
  Tensor x = uniform({2, 3, 4}, -1, 1, DType::kF64, 11);
  EXPECT_GRADCHECK([](const V& v) { return v[0].view({6, 4}); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return v[0].transpose(0, 2).reshape({-1}); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return v[0].permute({1, 2, 0}); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return v[0].transpose(-1, 0); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return v[0].slice(2, 1, 4, 2); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return v[0].slice(0, -1, 2); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return v[0].narrow(1, 1, 2); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return v[0].select(1, -1); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return v[0].flatten(0, 1); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return v[0].unsqueeze(1).squeeze(); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return v[0].permute({2, 0, 1}).contiguous(); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return v[0].clone(); }, {x});
  Tensor y = uniform({3, 1}, -1, 1, DType::kF64, 12);
  EXPECT_GRADCHECK([](const V& v) { return v[0].expand({2, 3, 5}); }, {y});
  EXPECT_GRADCHECK([](const V& v) { return v[0].squeeze(1); }, {y});
  // Chains of views, including a view of a stepped slice of a transpose.
  EXPECT_GRADCHECK(
      [](const V& v) { return v[0].transpose(0, 1).slice(0, 0, 3, 2).select(2, 1).unsqueeze(0); },
      {x});
  // Overlapping views of one input: gradients from both add up.
  EXPECT_GRADCHECK(
      [](const V& v) {
        return add(v[0].slice(2, 0, 3), mul(v[0].slice(2, 1, 4), v[0].narrow(2, 0, 3)));
      },
      {x});
  // A round trip through f32 needs a larger step: f32 rounding swamps eps = 1e-6.
  autograd::GradcheckOptions coarse;
  coarse.eps = 1e-2;
  coarse.atol = 1e-4;
  EXPECT_GRADCHECK([](const V& v) { return mul(v[0].to(DType::kF32), 3.0).to(DType::kF64); }, {x},
                   coarse);
}

TEST(Views, SliceGradientScattersIntoZeros) {
  Tensor x = uniform({2, 5}, -1, 1, DType::kF64, 13);
  x.set_requires_grad();
  sum(x.slice(1, 1, 5, 2)).backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 1, 0, 1, 0, 0, 1, 0, 1, 0}));
  Tensor z = uniform({3}, -1, 1, DType::kF64, 14);
  z.set_requires_grad();
  sum(z.unsqueeze(0).expand({4, 3})).backward();
  EXPECT_EQ(values(z.grad()), (std::vector<double>{4, 4, 4}));
}

}  // namespace
}  // namespace chorus
