// layer_norm / rms_norm: forward against naive double loops, gradients against finite
// differences, reduced precision and bad input. PyTorch values: nn_reference_test.cc.
#include "core/ops/normalization.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "test_util.h"

namespace chorus {
namespace {

using testing::AllClose;
using testing::uniform;
using V = std::vector<Tensor>;

// Normalises each row of d trailing elements: (x - mean)/sqrt(var + eps)·w + b, or for RMS
// x/sqrt(mean(x²) + eps)·w.
Tensor naive_norm(const Tensor& x, int64_t d, const Tensor& w, const Tensor& b, double eps,
                  bool rms) {
  const auto v = x.to_vector<double>();
  const auto wv = w.defined() ? w.to_vector<double>() : std::vector<double>(d, 1.0);
  const auto bv = b.defined() ? b.to_vector<double>() : std::vector<double>(d, 0.0);
  std::vector<double> out(v.size());
  for (size_t r = 0; r * d < v.size(); ++r) {
    const double* row = v.data() + r * d;
    double mean = 0, var = 0;
    if (!rms) {
      for (int64_t j = 0; j < d; ++j) mean += row[j] / d;
    }
    for (int64_t j = 0; j < d; ++j) var += (row[j] - mean) * (row[j] - mean) / d;
    for (int64_t j = 0; j < d; ++j) {
      out[r * d + j] = (row[j] - mean) / std::sqrt(var + eps) * wv[j] + bv[j];
    }
  }
  return Tensor::from_doubles(out, x.shape(), DType::kF64);
}

TEST(LayerNorm, MatchesNaiveLoop) {
  for (int64_t d : {1, 3, 8, 13, 40, 300}) {
    Tensor x = uniform({5, d}, -3, 5, DType::kF64, d);
    Tensor w = uniform({d}, 0.5, 1.5, DType::kF64, 2), b = uniform({d}, -1, 1, DType::kF64, 3);
    EXPECT_TRUE(AllClose(layer_norm(x, {d}, w, b), naive_norm(x, d, w, b, 1e-5, false), 1e-12))
        << d;
    EXPECT_TRUE(AllClose(layer_norm(x, {d}), naive_norm(x, d, {}, {}, 1e-5, false), 1e-12));
    Tensor xf = x.to(DType::kF32);
    EXPECT_TRUE(AllClose(layer_norm(xf, {d}, w.to(DType::kF32), b.to(DType::kF32), 0.01),
                         naive_norm(xf, d, w, b, 0.01, false), 2e-5, 2e-5));
  }
  // Several trailing dims, and a row whose mean is large next to its spread (cancellation).
  Tensor x = add(uniform({2, 3, 4, 5}, -1, 1), 1000.0);
  EXPECT_TRUE(AllClose(layer_norm(x.to(DType::kF32), {4, 5}),
                       naive_norm(x, 20, {}, {}, 1e-5, false), 2e-3, 1e-3));
  EXPECT_TRUE(AllClose(layer_norm(x, {4, 5}), naive_norm(x, 20, {}, {}, 1e-5, false), 1e-9));
}

TEST(RmsNorm, MatchesNaiveLoop) {
  for (int64_t d : {1, 7, 16, 33}) {
    Tensor x = uniform({3, 2, d}, -2, 2, DType::kF64, d);
    Tensor w = uniform({d}, 0.5, 1.5, DType::kF64, 4);
    EXPECT_TRUE(AllClose(rms_norm(x, w), naive_norm(x, d, w, {}, 1e-6, true), 1e-12)) << d;
    EXPECT_TRUE(AllClose(rms_norm(x), naive_norm(x, d, {}, {}, 1e-6, true), 1e-12));
    EXPECT_TRUE(AllClose(rms_norm(x.to(DType::kF32), w.to(DType::kF32), 0.1),
                         naive_norm(x, d, w, {}, 0.1, true), 1e-5, 1e-5));
  }
  // A 2-D weight normalises over the last two dims.
  Tensor x = uniform({2, 3, 4}, -2, 2);
  Tensor w = uniform({3, 4}, 0.5, 1.5, DType::kF64, 9);
  EXPECT_TRUE(AllClose(rms_norm(x, w), naive_norm(x, 12, w, {}, 1e-6, true), 1e-12));
}

TEST(LayerNorm, Bf16InputGivesBf16CloseToF32) {
  Tensor x = uniform({4, 96}, -3, 3, DType::kF32, 21).to(DType::kBF16);
  Tensor w = uniform({96}, 0.5, 1.5, DType::kF32, 22);  // f32 parameters, bf16 activations
  Tensor b = uniform({96}, -0.5, 0.5, DType::kF32, 23);
  Tensor y = layer_norm(x, {96}, w, b);
  ASSERT_EQ(y.dtype(), DType::kBF16);
  EXPECT_TRUE(AllClose(y, layer_norm(x.to(DType::kF32), {96}, w, b), 2e-2, 8e-3));
  Tensor r = rms_norm(x, w.to(DType::kBF16));
  ASSERT_EQ(r.dtype(), DType::kBF16);
  EXPECT_TRUE(
      AllClose(r, rms_norm(x.to(DType::kF32), w.to(DType::kBF16).to(DType::kF32)), 2e-2, 8e-3));
}

TEST(LayerNorm, Bf16GradientsCloseToF32) {
  Tensor x = uniform({6, 40}, -3, 3, DType::kF32, 24).to(DType::kBF16);
  Tensor g = uniform({6, 40}, -1, 1, DType::kF32, 25).to(DType::kBF16);
  for (bool rms : {false, true}) {
    Tensor xb = x.detach().set_requires_grad(), xf = x.to(DType::kF32).set_requires_grad();
    Tensor wb = uniform({40}, 0.5, 1.5, DType::kF32, 26).set_requires_grad();
    Tensor wf = wb.detach().clone().set_requires_grad();
    (rms ? rms_norm(xb, wb) : layer_norm(xb, {40}, wb)).backward(g);
    (rms ? rms_norm(xf, wf) : layer_norm(xf, {40}, wf)).backward(g.to(DType::kF32));
    ASSERT_EQ(xb.grad().dtype(), DType::kBF16);
    EXPECT_TRUE(AllClose(xb.grad(), xf.grad(), 3e-2, 2e-2)) << rms;
    EXPECT_TRUE(AllClose(wb.grad(), wf.grad(), 1e-3, 1e-3)) << rms;
  }
}

TEST(LayerNorm, GradientsMatchFiniteDifferences) {
  Tensor x = uniform({3, 2, 5}, -2, 2);
  Tensor w = uniform({2, 5}, 0.5, 1.5, DType::kF64, 2), b = uniform({2, 5}, -1, 1, DType::kF64, 3);
  EXPECT_GRADCHECK([](const V& v) { return layer_norm(v[0], {2, 5}, v[1], v[2]); }, {x, w, b});
  EXPECT_GRADCHECK([](const V& v) { return layer_norm(v[0], {5}, {}, {}, 0.1); }, {x});
  EXPECT_GRADCHECK([](const V& v) { return layer_norm(v[0], {5}, v[1]); },
                   {x, uniform({5}, 0.5, 1.5, DType::kF64, 6)});
  // Only the parameters need gradients (x is a constant).
  EXPECT_GRADCHECK([x](const V& v) { return layer_norm(x, {2, 5}, v[0], v[1]); }, {w, b});
  Tensor many = uniform({40, 9}, -2, 2, DType::kF64, 8);  // several row chunks for gweight
  EXPECT_GRADCHECK([](const V& v) { return layer_norm(v[0], {9}, v[1], v[2]); },
                   {many, uniform({9}, 0.5, 1.5), uniform({9})});
}

TEST(LayerNorm, ParameterGradientsOverManyRows) {
  // Enough rows that the backward kernel splits them into per-thread partial sums.
  Tensor x = uniform({3000, 16}, -2, 2, DType::kF64, 31);
  Tensor g = uniform({3000, 16}, -1, 1, DType::kF64, 32);
  Tensor w = uniform({16}, 0.5, 1.5, DType::kF64, 33).set_requires_grad();
  Tensor b = uniform({16}, -1, 1, DType::kF64, 34).set_requires_grad();
  layer_norm(x, {16}, w, b).backward(g);
  Tensor xhat = layer_norm(x, {16});
  EXPECT_TRUE(AllClose(w.grad(), sum(mul(g, xhat), {0}), 1e-10, 1e-10));
  EXPECT_TRUE(AllClose(b.grad(), sum(g, {0}), 1e-10, 1e-10));
  Tensor wr = uniform({16}, 0.5, 1.5, DType::kF64, 35).set_requires_grad();
  rms_norm(x, wr).backward(g);
  EXPECT_TRUE(AllClose(wr.grad(), sum(mul(g, rms_norm(x)), {0}), 1e-10, 1e-10));
}

TEST(RmsNorm, GradientsMatchFiniteDifferences) {
  Tensor x = uniform({4, 11}, -2, 2);
  Tensor w = uniform({11}, 0.5, 1.5, DType::kF64, 2);
  EXPECT_GRADCHECK([](const V& v) { return rms_norm(v[0], v[1]); }, {x, w});
  EXPECT_GRADCHECK([](const V& v) { return rms_norm(v[0], {}, 0.01); }, {x});
  EXPECT_GRADCHECK([x](const V& v) { return rms_norm(x, v[0]); }, {w});
}

TEST(LayerNorm, EdgeCasesAndBadInput) {
  EXPECT_EQ(layer_norm(Tensor::zeros({0, 4}), {4}).shape(), (Shape{0, 4}));
  // A constant row normalises to zeros (var = 0, guarded by eps).
  EXPECT_TRUE(AllClose(layer_norm(Tensor::full({2, 6}, 3.0), {6}), Tensor::zeros({2, 6})));
  Tensor x = uniform({2, 3});
  EXPECT_THROW(layer_norm(x, {2}), Error);                // not the trailing dims
  EXPECT_THROW(layer_norm(x, {}), Error);                 // nothing to normalise
  EXPECT_THROW(layer_norm(x, {3}, uniform({4})), Error);  // weight shape
  EXPECT_THROW(layer_norm(x, {3}, {}, uniform({2, 3})), Error);
  EXPECT_THROW(layer_norm(Tensor::arange(0, 6).reshape({2, 3}), {3}), Error);
  EXPECT_THROW(rms_norm(x, uniform({2})), Error);
  EXPECT_THROW(rms_norm(Tensor::scalar(1.0)), Error);
}

}  // namespace
}  // namespace chorus
