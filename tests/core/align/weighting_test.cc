// Modality weighting: fixed weights, the learned GMU-style gate, modality dropout, and the
// weighted loss terms, checked against hand-computed values and finite differences.
#include "core/align/weighting.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "test_util.h"

namespace chorus::align {
namespace {

using testing::AllClose;

ModalityWeightingOptions two(WeightingMode mode) {
  ModalityWeightingOptions o;
  o.mode = mode;
  o.modalities = {"image", "text"};
  o.weights = {0.7, 0.3};
  o.dim = 3;
  return o;
}

TEST(ModalityWeighting, FixedScalesTokensPooledAndMask) {
  Generator gen(1);
  ModalityWeighting w(two(WeightingMode::kFixed), gen);
  const Tensor img = testing::uniform({2, 4, 3}, -1, 1, DType::kF32, 1);
  const Tensor txt = testing::uniform({2, 2, 3}, -1, 1, DType::kF32, 2);
  const Tensor txt_mask = Tensor::from_vector<float>({1, 1, 1, 0}, {2, 2});
  const WeightedModalities out =
      w.forward({{img, Tensor(), Tensor()}, {txt, txt_mask, Tensor()}}, gen);
  ASSERT_EQ(out.tokens.shape(), (Shape{2, 6, 3}));
  EXPECT_TRUE(AllClose(out.tokens.narrow(1, 0, 4), mul(img, 0.7)));
  EXPECT_TRUE(AllClose(out.tokens.narrow(1, 4, 2), mul(txt, 0.3)));
  EXPECT_EQ(out.mask.to_vector<float>(), (std::vector<float>{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0}));
  // Pooled: masked means weighted; sample 1's text mean uses its first token only.
  const Tensor expect =
      add(mul(mean(img, {1}), 0.7),
          mul(Tensor::from_doubles(
                  [&] {
                    std::vector<double> v = txt.to_vector<double>();
                    return std::vector<double>{
                        (v[0] + v[3]) / 2, (v[1] + v[4]) / 2, (v[2] + v[5]) / 2, v[6], v[7], v[8]};
                  }(),
                  {2, 3}, DType::kF32),
              0.3));
  EXPECT_TRUE(AllClose(out.pooled, expect));
  ASSERT_EQ(out.mean_weights.size(), 2u);
  EXPECT_NEAR(out.mean_weights[0], 0.7, 1e-6);
  EXPECT_NEAR(out.mean_weights[1], 0.3, 1e-6);
}

TEST(ModalityWeighting, DropoutDropsWholeModalitiesAndKeepsTotals) {
  ModalityWeightingOptions o = two(WeightingMode::kModalityDropout);
  o.dropout = 0.5;
  Generator gen(7);
  ModalityWeighting w(o, gen);
  const int64_t b = 64;
  const Tensor img = testing::uniform({b, 3}, -1, 1, DType::kF32, 3);
  const Tensor txt = testing::uniform({b, 3}, -1, 1, DType::kF32, 4);
  Generator draw(11);
  const WeightedModalities out =
      w.forward({{Tensor(), Tensor(), img}, {Tensor(), Tensor(), txt}}, draw);
  // The same masks, drawn independently from an identical generator.
  Generator replay(11);
  const auto keep = modality_keep_masks(b, 2, 0.5, replay);
  const std::vector<double> wv = out.weights.to_vector<double>();
  int dropped = 0;
  for (int64_t i = 0; i < b; ++i) {
    ASSERT_TRUE(keep[i][0] || keep[i][1]) << "sample " << i << " lost every modality";
    EXPECT_NEAR(wv[2 * i] + wv[2 * i + 1], 1.0, 1e-6);  // renormalised to the base total
    for (int m = 0; m < 2; ++m) {
      if (keep[i][m]) continue;
      EXPECT_EQ(wv[2 * i + m], 0.0);
      ++dropped;
    }
    if (keep[i][0] && keep[i][1]) EXPECT_NEAR(wv[2 * i], 0.7, 1e-6);
  }
  EXPECT_GT(dropped, 10);  // p = 0.5 over 64 samples: about 32 drops (far from none)
  // Eval mode: the fixed weights, nothing dropped.
  w.eval();
  const WeightedModalities ev =
      w.forward({{Tensor(), Tensor(), img}, {Tensor(), Tensor(), txt}}, draw);
  EXPECT_NEAR(ev.mean_weights[0], 0.7, 1e-6);
  EXPECT_NEAR(ev.mean_weights[1], 0.3, 1e-6);
}

TEST(ModalityWeighting, GateIsPerSampleSoftmaxOfGmuAndDifferentiable) {
  Generator gen(5);
  ModalityWeighting w(two(WeightingMode::kLearnedGate), gen);
  const Tensor img = testing::uniform({4, 3}, -1, 1, DType::kF32, 5);
  const Tensor txt = testing::uniform({4, 3}, -1, 1, DType::kF32, 6);
  const WeightedModalities out =
      w.forward({{Tensor(), Tensor(), img}, {Tensor(), Tensor(), txt}}, gen);
  // Reference: z = softmax(W_z [x_i; x_t] + b), fused = z_i tanh(W_i x_i + b_i) + z_t tanh(...).
  const auto wz = w.gate->weight.to_vector<double>(), bz = w.gate->bias.to_vector<double>();
  const auto xi = img.to_vector<double>(), xt = txt.to_vector<double>();
  const auto fused = out.pooled.to_vector<double>();
  for (int b = 0; b < 4; ++b) {
    double logit[2];
    for (int m = 0; m < 2; ++m) {
      logit[m] = bz[m];
      for (int j = 0; j < 3; ++j)
        logit[m] += wz[m * 6 + j] * xi[b * 3 + j] + wz[m * 6 + 3 + j] * xt[b * 3 + j];
    }
    const double z0 = 1 / (1 + std::exp(logit[1] - logit[0]));  // GMU's sigmoid gate
    EXPECT_NEAR(out.weights.to_vector<double>()[b * 2], z0, 1e-5);
    for (int d = 0; d < 3; ++d) {
      double h[2];
      for (int m = 0; m < 2; ++m) {
        const auto pw = w.projections[m]->weight.to_vector<double>();
        const auto pb = w.projections[m]->bias.to_vector<double>();
        const auto& x = m == 0 ? xi : xt;
        h[m] = pb[d];
        for (int j = 0; j < 3; ++j) h[m] += pw[d * 3 + j] * x[b * 3 + j];
        h[m] = std::tanh(h[m]);
      }
      EXPECT_NEAR(fused[b * 3 + d], z0 * h[0] + (1 - z0) * h[1], 1e-5);
    }
  }
  // Gradients reach the gate through the fused embedding and the loss weighting.
  const Tensor loss =
      add(sum(square(out.pooled)),
          combine_modality_losses({Tensor::scalar(1.0), Tensor::scalar(2.0)}, out.weights));
  loss.backward();
  EXPECT_TRUE(w.gate->weight.grad().defined());
  EXPECT_TRUE(w.projections[1]->weight.grad().defined());
}

TEST(ModalityWeighting, GateGradcheck) {
  ModalityWeightingOptions o = two(WeightingMode::kLearnedGate);
  o.dtype = DType::kF64;
  Generator gen(9);
  ModalityWeighting w(o, gen);
  const Tensor img = testing::uniform({3, 3}, -1, 1, DType::kF64, 7);
  const Tensor txt = testing::uniform({3, 3}, -1, 1, DType::kF64, 8);
  EXPECT_GRADCHECK(
      [&](const std::vector<Tensor>& x) {
        return w.forward({{Tensor(), Tensor(), x[0]}, {Tensor(), Tensor(), x[1]}}, gen).pooled;
      },
      {img, txt});
}

TEST(ModalityWeighting, CombineLossesPerSampleAndScalar) {
  const Tensor weights = Tensor::from_vector<float>({0.7f, 0.3f, 0.5f, 0.5f}, {2, 2});
  const Tensor per_sample = Tensor::from_vector<float>({1.0f, 3.0f}, {2});
  const Tensor scalar = Tensor::scalar(2.0);
  // image: mean(0.7·1, 0.5·3) = 1.1; text: mean(0.3, 0.5) · 2 = 0.8.
  EXPECT_NEAR(combine_modality_losses({per_sample, scalar}, weights).item(), 1.9, 1e-6);
  EXPECT_THROW(combine_modality_losses({per_sample}, weights), Error);
}

TEST(ModalityWeighting, BadConfigurationAndInputsAreClearErrors) {
  Generator gen(1);
  ModalityWeightingOptions o = two(WeightingMode::kFixed);
  o.weights = {0.7};
  EXPECT_THROW(ModalityWeighting(o, gen), Error);
  o.weights = {0.7, -0.3};
  EXPECT_THROW(ModalityWeighting(o, gen), Error);
  o = two(WeightingMode::kLearnedGate);
  o.dim = 0;
  EXPECT_THROW(ModalityWeighting(o, gen), Error);
  EXPECT_THROW(weighting_mode_from_name("sometimes"), Error);
  EXPECT_EQ(weighting_mode_from_name("learned"), WeightingMode::kLearnedGate);
  ModalityWeighting w(two(WeightingMode::kFixed), gen);
  const Tensor x = testing::uniform({2, 3}, -1, 1, DType::kF32);
  EXPECT_THROW(w.forward({{Tensor(), Tensor(), x}}, gen), Error);  // one input for two
  EXPECT_THROW(w.forward({{Tensor(), Tensor(), x}, {Tensor(), Tensor(), Tensor()}}, gen), Error);
  try {
    w.forward({{Tensor(), Tensor(), x}, {Tensor(), Tensor(), testing::uniform({3, 3})}}, gen);
    FAIL() << "batch mismatch accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("text"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace chorus::align
