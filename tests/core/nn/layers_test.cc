// Linear, Embedding, PositionalEmbedding, LayerNorm, RMSNorm and Dropout modules: forward
// against naive loops, gradient checks over inputs and parameters, init and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/nn/dropout.h"
#include "core/nn/embedding.h"
#include "core/nn/linear.h"
#include "core/nn/norm.h"
#include "core/nn/positional_embedding.h"
#include "nn_test_util.h"

namespace chorus::nn {
namespace {

using testing::AllClose;
using testing::BitwiseEqual;
using testing::ModuleGradcheck;
using testing::uniform;

constexpr DType kF64 = DType::kF64;

// x [rows, in] · w[out, in]ᵀ (+ b) with loops.
Tensor naive_linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  const int64_t in = w.size(1), out = w.size(0), rows = x.numel() / in;
  const auto vx = x.to_vector<double>(), vw = w.to_vector<double>();
  const auto vb = b.defined() ? b.to_vector<double>() : std::vector<double>(out, 0.0);
  std::vector<double> y;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double s = vb[o];
      for (int64_t i = 0; i < in; ++i) s += vx[r * in + i] * vw[o * in + i];
      y.push_back(s);
    }
  Shape shape = x.shape();
  shape.back() = out;
  return testing::from(y, shape);
}

double max_of(const Tensor& t) {
  const auto v = t.to_vector<double>();
  return *std::max_element(v.begin(), v.end());
}
double min_of(const Tensor& t) {
  const auto v = t.to_vector<double>();
  return *std::min_element(v.begin(), v.end());
}

TEST(LinearTest, ForwardMatchesNaiveLoop) {
  Generator gen(1);
  Linear lin(5, 3, gen, {.bias = true, .init_std = {}, .dtype = kF64});
  const Tensor x = uniform({2, 4, 5});
  EXPECT_TRUE(AllClose(lin.forward(x), naive_linear(x, lin.weight, lin.bias), 1e-12, 1e-12));
  Linear nob(5, 2, gen, {.bias = false, .init_std = {}, .dtype = kF64});
  EXPECT_FALSE(nob.bias.defined());
  EXPECT_EQ(nob.named_parameters().size(), 1u);
  EXPECT_TRUE(AllClose(nob.forward(x), naive_linear(x, nob.weight, Tensor()), 1e-12, 1e-12));
}

TEST(LinearTest, Init) {
  Generator gen(2);
  Linear plain(400, 50, gen);  // PyTorch's default: U(±1/sqrt(in)) for weight and bias
  const double bound = 1.0 / 20.0;
  EXPECT_LE(max_of(plain.weight), bound);
  EXPECT_GE(min_of(plain.weight), -bound);
  EXPECT_GT(max_of(plain.weight), 0.99 * bound);
  EXPECT_LE(max_of(plain.bias), bound);
  EXPECT_GT(max_of(plain.bias), 0.0);
  EXPECT_EQ(plain.in_features(), 400);
  EXPECT_EQ(plain.out_features(), 50);

  Linear gpt(64, 32, gen, {.bias = true, .init_std = 0.02});
  EXPECT_LE(max_of(gpt.weight), 0.04);
  EXPECT_GE(min_of(gpt.weight), -0.04);
  EXPECT_TRUE(AllClose(gpt.bias, Tensor::zeros({32})));

  Generator a(8), b(8);
  EXPECT_TRUE(BitwiseEqual(Linear(6, 7, a).weight, Linear(6, 7, b).weight));
}

TEST(LinearTest, Gradcheck) {
  Generator gen(3);
  Linear lin(4, 3, gen, {.bias = true, .init_std = {}, .dtype = kF64});
  const Tensor x = uniform({2, 3, 4}).set_requires_grad(true);
  EXPECT_TRUE(ModuleGradcheck(lin, [&] { return lin.forward(x); }, {x}));
}

TEST(LinearTest, Errors) {
  Generator gen(3);
  Linear lin(4, 3, gen);
  EXPECT_THROW(lin.forward(Tensor::zeros({2, 5})), Error);
  EXPECT_THROW(Linear(0, 3, gen), Error);
}

TEST(EmbeddingTest, LooksUpRowsAndHonoursPadding) {
  Generator gen(4);
  Embedding emb(6, 3, gen, {.padding_idx = -1, .init_std = 1.0, .dtype = kF64});
  EXPECT_TRUE(AllClose(emb.weight.select(0, 5), Tensor::zeros({3}, kF64)));  // padding row is 0
  const Tensor idx = Tensor::from_vector<int64_t>({0, 5, 2, 2, 4, 1}, {2, 3});
  const Tensor y = emb.forward(idx);
  ASSERT_EQ(y.shape(), (Shape{2, 3, 3}));
  const auto w = emb.weight.to_vector<double>(), vy = y.to_vector<double>();
  const int64_t rows[] = {0, 5, 2, 2, 4, 1};
  for (int p = 0; p < 6; ++p)
    for (int d = 0; d < 3; ++d) EXPECT_EQ(vy[p * 3 + d], w[rows[p] * 3 + d]);
  // The padding row gets no gradient; a repeated row gets the sum.
  y.backward(Tensor::ones({2, 3, 3}, kF64));
  const auto g = emb.weight.grad().to_vector<double>();
  EXPECT_EQ(g[5 * 3], 0.0);
  EXPECT_EQ(g[2 * 3], 2.0);
  EXPECT_EQ(g[3 * 3], 0.0);
  EXPECT_EQ(g[0], 1.0);
  EXPECT_THROW(emb.forward(Tensor::from_vector<int64_t>({6}, {1})), Error);
  EXPECT_THROW(Embedding(4, 2, gen, {.padding_idx = 4}), Error);
}

TEST(EmbeddingTest, InitStd) {
  Generator gen(5);
  Embedding emb(500, 64, gen, {.padding_idx = {}, .init_std = 0.02});
  const auto v = emb.weight.to_vector<double>();
  double s2 = 0;
  for (double x : v) s2 += x * x;
  EXPECT_NEAR(std::sqrt(s2 / static_cast<double>(v.size())), 0.02, 5e-4);
}

TEST(PositionalEmbeddingTest, RowsForARangeOrExplicitPositions) {
  Generator gen(6);
  PositionalEmbedding pos(10, 4, gen, 0.02, kF64);
  EXPECT_EQ(pos.named_parameters()[0].first, "table.weight");
  const Tensor r = pos.forward(3, 5);
  ASSERT_EQ(r.shape(), (Shape{3, 4}));
  EXPECT_TRUE(BitwiseEqual(r, pos.table->weight.slice(0, 5, 8).contiguous()));
  const Tensor p = pos.forward(Tensor::from_vector<int64_t>({9, 0, 9, 1}, {2, 2}));
  ASSERT_EQ(p.shape(), (Shape{2, 2, 4}));
  EXPECT_TRUE(BitwiseEqual(p.select(0, 0).select(0, 0), pos.table->weight.select(0, 9)));
  EXPECT_EQ(pos.forward(0).shape(), (Shape{0, 4}));
  EXPECT_THROW(pos.forward(4, 7), Error);  // positions 7..10 exceed a table of 10
  const Tensor x = uniform({2, 3, 4}).set_requires_grad(true);
  EXPECT_TRUE(ModuleGradcheck(pos, [&] { return add(x, pos.forward(3, 2)); }, {x}));
}

// Naive per-row normalisation: layer norm (rms = false) or RMS norm.
Tensor naive_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps, bool rms) {
  const int64_t d = x.size(-1), rows = x.numel() / d;
  const auto vx = x.to_vector<double>();
  const auto vw = w.defined() ? w.to_vector<double>() : std::vector<double>(d, 1.0);
  const auto vb = b.defined() ? b.to_vector<double>() : std::vector<double>(d, 0.0);
  std::vector<double> y(vx.size());
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < d; ++i) mean += vx[r * d + i] / static_cast<double>(d);
    if (rms) mean = 0;
    for (int64_t i = 0; i < d; ++i) {
      const double c = vx[r * d + i] - mean;
      var += c * c / static_cast<double>(d);
    }
    for (int64_t i = 0; i < d; ++i)
      y[r * d + i] = (vx[r * d + i] - mean) / std::sqrt(var + eps) * vw[i] + vb[i];
  }
  return testing::from(y, x.shape());
}

TEST(NormTest, LayerNormMatchesNaive) {
  LayerNorm ln(6, 1e-5, true, true, kF64);
  ln.weight.copy_(uniform({6}, 0.5, 1.5, kF64, 1));
  ln.bias.copy_(uniform({6}, -0.5, 0.5, kF64, 2));
  const Tensor x = uniform({3, 2, 6}, -2, 2);
  EXPECT_TRUE(
      AllClose(ln.forward(x), naive_norm(x, ln.weight, ln.bias, 1e-5, false), 1e-12, 1e-10));
  LayerNorm plain(6, 0.1, /*affine=*/false, true, kF64);
  EXPECT_TRUE(plain.named_parameters().empty());
  EXPECT_TRUE(
      AllClose(plain.forward(x), naive_norm(x, Tensor(), Tensor(), 0.1, false), 1e-12, 1e-10));
  LayerNorm nobias(6, 1e-5, true, /*bias=*/false, kF64);
  EXPECT_EQ(nobias.named_parameters().size(), 1u);
  EXPECT_THROW(ln.forward(Tensor::zeros({2, 5}, kF64)), Error);
}

TEST(NormTest, RMSNormMatchesNaive) {
  RMSNorm rn(5, 1e-6, kF64);
  EXPECT_TRUE(AllClose(rn.weight, Tensor::ones({5}, kF64)));
  rn.weight.copy_(uniform({5}, 0.5, 1.5, kF64, 3));
  const Tensor x = uniform({4, 5}, -2, 2);
  EXPECT_TRUE(
      AllClose(rn.forward(x), naive_norm(x, rn.weight, Tensor(), 1e-6, true), 1e-12, 1e-10));
}

TEST(NormTest, Gradchecks) {
  LayerNorm ln(5, 1e-5, true, true, kF64);
  ln.weight.copy_(uniform({5}, 0.5, 1.5, kF64, 4));
  ln.bias.copy_(uniform({5}, -0.5, 0.5, kF64, 5));
  const Tensor x = uniform({3, 5}, -2, 2).set_requires_grad(true);
  EXPECT_TRUE(ModuleGradcheck(ln, [&] { return ln.forward(x); }, {x}));
  RMSNorm rn(5, 1e-6, kF64);
  rn.weight.copy_(uniform({5}, 0.5, 1.5, kF64, 6));
  EXPECT_TRUE(ModuleGradcheck(rn, [&] { return rn.forward(x); }, {x}));
}

TEST(NormTest, MakeNormPicksTheKind) {
  EXPECT_EQ(make_norm(NormKind::kLayerNorm, 4, 1e-5)->type_name(), "LayerNorm");
  EXPECT_EQ(make_norm(NormKind::kLayerNorm, 4, 1e-5)->named_parameters().size(), 2u);
  EXPECT_EQ(make_norm(NormKind::kRMSNorm, 4, 1e-5)->type_name(), "RMSNorm");
  const Tensor x = uniform({2, 4}, -1, 1, DType::kF32);
  const std::shared_ptr<Norm> n = make_norm(NormKind::kRMSNorm, 4, 1e-5);
  EXPECT_TRUE(AllClose(n->forward(x), naive_norm(x, Tensor(), Tensor(), 1e-5, true), 1e-6, 1e-5));
}

TEST(DropoutTest, TrainingFlagGeneratorAndDeterminism) {
  Dropout drop(0.25);
  const Tensor x = uniform({64, 32}, 0.5, 1.5, kF64);
  Generator a(77), b(77);
  const Tensor ya = drop.forward(x, &a);
  EXPECT_TRUE(BitwiseEqual(ya, drop.forward(x, &b)));  // same seed, same mask
  EXPECT_EQ(a.offset(), b.offset());
  EXPECT_GT(a.offset(), 0u);
  // Kept elements are scaled by 1/(1-p); about p of them are dropped.
  const auto vx = x.to_vector<double>(), vy = ya.to_vector<double>();
  int dropped = 0;
  for (size_t i = 0; i < vx.size(); ++i) {
    if (vy[i] == 0.0) {
      ++dropped;
    } else {
      EXPECT_NEAR(vy[i], vx[i] / 0.75, 1e-12);
    }
  }
  EXPECT_NEAR(dropped / static_cast<double>(vx.size()), 0.25, 0.03);
  // The next call draws a different mask.
  EXPECT_FALSE(BitwiseEqual(ya, drop.forward(x, &a)));
  // Eval: identity, no draw, no generator needed.
  drop.eval();
  const uint64_t before = a.offset();
  EXPECT_TRUE(drop.forward(x, &a).is_same(x));
  EXPECT_EQ(a.offset(), before);
  EXPECT_TRUE(drop.forward(x, nullptr).is_same(x));
  drop.train();
  EXPECT_THROW(drop.forward(x, nullptr), Error);
  EXPECT_TRUE(Dropout(0.0).forward(x, nullptr).is_same(x));
  EXPECT_THROW(Dropout(1.5), Error);
}

TEST(DropoutTest, GradientUsesTheMask) {
  Dropout drop(0.5);
  Generator gen(3);
  const Tensor x = uniform({4, 8}).set_requires_grad(true);
  const Tensor y = drop.forward(x, &gen);
  y.backward(Tensor::ones({4, 8}, kF64));
  const auto vy = y.to_vector<double>(), g = x.grad().to_vector<double>();
  for (size_t i = 0; i < vy.size(); ++i) EXPECT_EQ(g[i], vy[i] == 0.0 ? 0.0 : 2.0);
}

}  // namespace
}  // namespace chorus::nn
