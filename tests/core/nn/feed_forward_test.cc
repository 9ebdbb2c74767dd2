// The dense feed-forward layers, MLP and SwiGLU: forward against naive loops, the FeedForward
// interface, gradient checks over inputs and every weight.
#include <gtest/gtest.h>

#include <cmath>

#include "core/nn/mlp.h"
#include "core/nn/swiglu.h"
#include "nn_test_util.h"

namespace chorus::nn {
namespace {

using testing::AllClose;
using testing::ModuleGradcheck;
using testing::uniform;

constexpr DType kF64 = DType::kF64;

// rows of x [rows, in] times w [out, in]ᵀ plus b, as vectors.
std::vector<double> naive_linear(const std::vector<double>& x, int64_t rows, const Linear& lin) {
  const int64_t in = lin.in_features(), out = lin.out_features();
  const auto w = lin.weight.to_vector<double>();
  const auto b = lin.bias.defined() ? lin.bias.to_vector<double>() : std::vector<double>(out, 0);
  std::vector<double> y;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double s = b[o];
      for (int64_t i = 0; i < in; ++i) s += x[r * in + i] * w[o * in + i];
      y.push_back(s);
    }
  return y;
}

double gelu_exact(double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }
double gelu_tanh(double v) {
  return 0.5 * v * (1 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
}
double silu(double v) { return v / (1 + std::exp(-v)); }

TEST(MLPTest, ForwardMatchesNaive) {
  for (GeluApprox approx : {GeluApprox::kNone, GeluApprox::kTanh}) {
    Generator gen(1);
    MLP mlp(4, 7, gen, {.bias = true, .approx = approx, .dtype = kF64});
    const Tensor x = uniform({2, 3, 4}, -2, 2);
    std::vector<double> h = naive_linear(x.to_vector<double>(), 6, *mlp.fc1);
    for (double& v : h) v = approx == GeluApprox::kNone ? gelu_exact(v) : gelu_tanh(v);
    const Tensor expected = testing::from(naive_linear(h, 6, *mlp.fc2), {2, 3, 4});
    EXPECT_TRUE(AllClose(mlp.forward(x), expected, 1e-12, 1e-10));
    // Through the FeedForward interface: same output, no aux loss.
    FeedForward& ff = mlp;
    const FeedForwardOutput out = ff.forward(x, ForwardContext{});
    EXPECT_TRUE(AllClose(out.y, expected, 1e-12, 1e-10));
    EXPECT_FALSE(out.aux_loss.defined());
  }
}

TEST(MLPTest, NamesInitAndGradcheck) {
  Generator gen(2);
  MLP mlp(3, 5, gen, {.bias = true, .init_std = 0.02, .out_init_std = 0.001, .dtype = kF64});
  std::vector<std::string> names;
  for (const auto& [n, _] : mlp.named_parameters()) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}));
  const auto w2 = mlp.fc2->weight.to_vector<double>();
  for (double v : w2) EXPECT_LE(std::fabs(v), 0.002);
  Generator g2(3);
  MLP small(3, 5, g2, {.bias = true, .dtype = kF64});
  const Tensor x = uniform({2, 3}, -1, 1).set_requires_grad(true);
  EXPECT_TRUE(ModuleGradcheck(small, [&] { return small.forward(x); }, {x}));
}

TEST(SwiGLUTest, ForwardMatchesNaive) {
  Generator gen(4);
  SwiGLU ffn(4, 6, gen, {.bias = false, .dtype = kF64});
  EXPECT_FALSE(ffn.w1->bias.defined());
  const Tensor x = uniform({5, 4}, -2, 2);
  const auto vx = x.to_vector<double>();
  const auto gate = naive_linear(vx, 5, *ffn.w1), up = naive_linear(vx, 5, *ffn.w3);
  std::vector<double> h(gate.size());
  for (size_t i = 0; i < h.size(); ++i) h[i] = silu(gate[i]) * up[i];
  const Tensor expected = testing::from(naive_linear(h, 5, *ffn.w2), {5, 4});
  EXPECT_TRUE(AllClose(ffn.forward(x), expected, 1e-12, 1e-10));
  EXPECT_TRUE(AllClose(static_cast<FeedForward&>(ffn).forward(x, {}).y, expected, 1e-12, 1e-10));
  std::vector<std::string> names;
  for (const auto& [n, _] : ffn.named_parameters()) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"w1.weight", "w2.weight", "w3.weight"}));
}

TEST(SwiGLUTest, Gradcheck) {
  Generator gen(5);
  SwiGLU ffn(3, 4, gen, {.bias = true, .dtype = kF64});
  const Tensor x = uniform({2, 2, 3}, -1.5, 1.5).set_requires_grad(true);
  EXPECT_TRUE(ModuleGradcheck(ffn, [&] { return ffn.forward(x); }, {x}));
}

TEST(FeedForwardTest, WrongWidthThrows) {
  Generator gen(6);
  SwiGLU ffn(4, 8, gen);
  MLP mlp(4, 8, gen);
  EXPECT_THROW(ffn.forward(Tensor::zeros({2, 5})), Error);
  EXPECT_THROW(mlp.forward(Tensor::zeros({2, 3})), Error);
}

}  // namespace
}  // namespace chorus::nn
