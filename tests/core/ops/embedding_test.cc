// embedding: lookup against a naive loop, gradient scatter-add with repeated indices and
// padding_idx, bad input.
#include "core/ops/embedding.h"

#include <gtest/gtest.h>

#include "core/ops/elementwise.h"
#include "test_util.h"

namespace chorus {
namespace {

using testing::AllClose;
using testing::uniform;
using V = std::vector<Tensor>;

Tensor indices_of(const std::vector<int64_t>& v, const Shape& shape) {
  return Tensor::from_vector<int64_t>(v, shape);
}

TEST(Embedding, LooksUpRowsForAnyIndexShape) {
  Tensor w = uniform({6, 5}, -1, 1, DType::kF32);
  const std::vector<int64_t> idx = {4, 0, 4, 5, 2, 1};
  Tensor out = embedding(w, indices_of(idx, {2, 3}));
  ASSERT_EQ(out.shape(), (Shape{2, 3, 5}));
  EXPECT_EQ(out.dtype(), DType::kF32);
  const auto wv = w.to_vector<float>(), ov = out.to_vector<float>();
  for (size_t i = 0; i < idx.size(); ++i) {
    for (int j = 0; j < 5; ++j) EXPECT_EQ(ov[i * 5 + j], wv[idx[i] * 5 + j]);
  }
  // i32 indices, a 0-dim index, bf16 weights (rows are copied bit for bit).
  EXPECT_TRUE(
      AllClose(embedding(w, indices_of(idx, {6}).to(DType::kI32)), out.reshape({6, 5}), 0, 0));
  EXPECT_TRUE(AllClose(embedding(w, Tensor::scalar(3, DType::kI64)), w.select(0, 3), 0, 0));
  Tensor wb = w.to(DType::kBF16);
  Tensor ob = embedding(wb, indices_of(idx, {6}));
  EXPECT_EQ(ob.dtype(), DType::kBF16);
  EXPECT_TRUE(AllClose(ob, out.reshape({6, 5}).to(DType::kBF16), 0, 0));
  EXPECT_EQ(embedding(w, indices_of({}, {0})).shape(), (Shape{0, 5}));
}

TEST(Embedding, GradientAccumulatesRepeatedIndicesAndSkipsPadding) {
  Tensor w = uniform({5, 3}).set_requires_grad();
  Tensor g = uniform({4, 3}, -1, 1, DType::kF64, 3);
  embedding(w, indices_of({1, 3, 1, 0}, {4}), /*padding_idx=*/3).backward(g);
  const auto gv = g.to_vector<double>(), gw = w.grad().to_vector<double>();
  for (int j = 0; j < 3; ++j) {
    EXPECT_DOUBLE_EQ(gw[0 * 3 + j], gv[3 * 3 + j]);
    EXPECT_DOUBLE_EQ(gw[1 * 3 + j], gv[0 * 3 + j] + gv[2 * 3 + j]);
    EXPECT_EQ(gw[2 * 3 + j], 0.0);
    EXPECT_EQ(gw[3 * 3 + j], 0.0);  // padding row
    EXPECT_EQ(gw[4 * 3 + j], 0.0);
  }
  // A negative padding_idx counts from V, as in PyTorch.
  Tensor w2 = uniform({5, 3}).set_requires_grad();
  embedding(w2, indices_of({4, 4, 1}, {3}), -1).backward(Tensor::ones({3, 3}, DType::kF64));
  EXPECT_EQ(w2.grad().to_vector<double>()[12], 0.0);
  EXPECT_EQ(w2.grad().to_vector<double>()[3], 1.0);
}

TEST(Embedding, GradientOverManyRowsAndWideColumns) {
  // Wide enough rows that threads split the columns; many repeats of few ids.
  const int64_t n = 3000, d = 256, vocab = 7;
  std::vector<int64_t> idx(n);
  for (int64_t i = 0; i < n; ++i) idx[i] = (i * 5) % vocab;
  Tensor w = uniform({vocab, d}, -1, 1, DType::kF32).set_requires_grad();
  Tensor g = uniform({n, d}, -1, 1, DType::kF32, 4);
  embedding(w, indices_of(idx, {n})).backward(g);
  const auto gv = g.to_vector<double>();
  std::vector<double> expect(vocab * d, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < d; ++j) expect[idx[i] * d + j] += gv[i * d + j];
  }
  EXPECT_TRUE(AllClose(w.grad(), testing::from(expect, {vocab, d}), 1e-3, 1e-4));
}

TEST(Embedding, GradientsMatchFiniteDifferences) {
  Tensor w = uniform({6, 4});
  EXPECT_GRADCHECK(
      [](const V& v) {
        return embedding(v[0], indices_of({2, 5, 2, 2, 0}, {5}));
      },
      {w});
  // The weight used twice. (padding_idx is left out here on purpose: its row does change the
  // output, yet by definition gets no gradient; the test above covers it.)
  EXPECT_GRADCHECK(
      [](const V& v) {
        return mul(embedding(v[0], indices_of({1, 1, 3, 0}, {2, 2})), v[0].slice(0, 0, 1));
      },
      {w});
}

TEST(Embedding, RejectsBadInput) {
  Tensor w = uniform({4, 2});
  EXPECT_THROW(embedding(w, indices_of({0, 4}, {2})), Error);
  EXPECT_THROW(embedding(w, indices_of({-1}, {1})), Error);
  EXPECT_THROW(embedding(w, Tensor::zeros({2})), Error);  // float indices
  EXPECT_THROW(embedding(uniform({4}), indices_of({0}, {1})), Error);
  EXPECT_THROW(embedding(w, indices_of({0}, {1}), 4), Error);
}

}  // namespace
}  // namespace chorus
