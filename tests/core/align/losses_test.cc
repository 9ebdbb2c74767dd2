// Alignment objectives against PyTorch 1.13 references (values and gradients, computed in f64
// by tools/fixtures/make_align_fixtures.py from the papers' formulas) and finite differences.
#include <gtest/gtest.h>

#include <cmath>

#include "align_test_util.h"
#include "core/align/contrastive_clustering.h"
#include "core/align/info_nce.h"
#include "core/align/supcon.h"
#include "core/align/swav.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "core/ops/softmax.h"
#include "test_util.h"

namespace chorus::align {
namespace {

using testing::align_fixture;
using testing::AllClose;
using testing::fixture_leaf;
using testing::fixture_tensor;
using testing::json;

constexpr double kTol = 2e-5;  // f32 forward/backward vs an f64 reference

void expect_grads(const std::vector<Tensor>& leaves, const json& grads) {
  ASSERT_EQ(leaves.size(), grads.size());
  for (size_t i = 0; i < leaves.size(); ++i) {
    SCOPED_TRACE("gradient " + std::to_string(i));
    ASSERT_TRUE(leaves[i].grad().defined());
    EXPECT_TRUE(AllClose(leaves[i].grad(), fixture_tensor(grads[i]), kTol, 1e-4));
  }
}

TEST(InfoNce, LearnedScaleMatchesTorch) {
  for (const char* name : {"info_nce_learned", "info_nce_clamped"}) {
    SCOPED_TRACE(name);
    const json& c = align_fixture().at(name);
    LogitScale scale;
    scale.log_scale.copy_(Tensor::scalar(c.at("log_scale").get<double>()));
    const Tensor a = fixture_leaf(c.at("a")), b = fixture_leaf(c.at("b"));
    const Tensor loss = info_nce(a, b, scale.scale());
    EXPECT_NEAR(loss.item(), c.at("loss").get<double>(),
                1e-4 * std::fabs(c.at("loss").get<double>()));
    loss.backward();
    expect_grads({a, b, scale.log_scale}, c.at("grads"));
  }
}

TEST(InfoNce, ClampedScaleIsOneHundredWithoutGradient) {
  LogitScale scale;
  EXPECT_NEAR(scale.value(), 1 / 0.07, 1e-4);
  scale.log_scale.copy_(Tensor::scalar(7.0));
  EXPECT_NEAR(scale.value(), 100.0, 1e-3);
  EXPECT_NEAR(scale.scale().item(), 100.0, 1e-3);
  // Torch's clamp passes no gradient above the bound: the fixture's gradient is exactly 0.
  EXPECT_EQ(align_fixture().at("info_nce_clamped").at("grads")[2].at("data")[0].get<double>(), 0.0);
}

TEST(InfoNce, FixedTemperatureMatchesTorch) {
  const json& c = align_fixture().at("info_nce_fixed");
  const Tensor a = fixture_leaf(c.at("a")), b = fixture_leaf(c.at("b"));
  const Tensor loss = info_nce(a, b, c.at("temperature").get<double>());
  EXPECT_NEAR(loss.item(), c.at("loss").get<double>(), 1e-4);
  loss.backward();
  expect_grads({a, b}, c.at("grads"));
}

TEST(InfoNce, Gradcheck) {
  const Tensor a = testing::uniform({4, 3}, -1, 1, DType::kF64, 1);
  const Tensor b = testing::uniform({4, 3}, -1, 1, DType::kF64, 2);
  const Tensor s = Tensor::scalar(2.0, DType::kF64);
  EXPECT_GRADCHECK([](const std::vector<Tensor>& x) { return info_nce(x[0], x[1], exp(x[2])); },
                   {a, b, s});
}

TEST(InfoNce, MultiPairWeightsAnchorAndErrors) {
  const Tensor img = testing::uniform({5, 4}, -1, 1, DType::kF32, 3);
  const Tensor txt = testing::uniform({5, 4}, -1, 1, DType::kF32, 4);
  const Tensor aud = testing::uniform({5, 4}, -1, 1, DType::kF32, 5);
  const std::map<std::string, Tensor> e = {{"image", img}, {"text", txt}, {"audio", aud}};
  const double it = info_nce(img, txt, 0.1).item(), at = info_nce(aud, txt, 0.1).item(),
               ai = info_nce(aud, img, 0.1).item();
  // Weighted sum over the configured pairs, each with its own fixed temperature.
  PairLosses l =
      multi_pair_info_nce(e, {{"image", "text", 0.7, 0.1}, {"audio", "text", 0.3, 0.1}}, Tensor());
  EXPECT_NEAR(l.total.item(), 0.7 * it + 0.3 * at, 1e-5);
  ASSERT_EQ(l.terms.size(), 2u);
  EXPECT_EQ(l.terms[1].first, "audio-text");
  // No pairs given: every pair; anchor "text" keeps only the pairs with text.
  const Tensor scale = Tensor::scalar(10.0);
  l = multi_pair_info_nce(e, {}, scale);
  EXPECT_EQ(l.terms.size(), 3u);
  EXPECT_NEAR(l.total.item(), at + ai + it, 1e-4);
  l = multi_pair_info_nce(e, {}, scale, std::string("text"));
  EXPECT_EQ(l.terms.size(), 2u);
  EXPECT_NEAR(l.total.item(), at + it, 1e-4);
  EXPECT_THROW(multi_pair_info_nce(e, {{"image", "depth"}}, scale), Error);
  EXPECT_THROW(multi_pair_info_nce(e, {{"image", "text"}}, Tensor()), Error);  // no scale
  EXPECT_THROW(multi_pair_info_nce(e, {{"image", "audio"}}, scale, std::string("text")), Error);
  EXPECT_THROW(info_nce(img, testing::uniform({4, 4}, -1, 1, DType::kF32), 0.1), Error);
}

TEST(ContrastiveClustering, MatchesTorch) {
  const json& c = align_fixture().at("contrastive_clustering");
  const Tensor za = fixture_leaf(c.at("za")), zb = fixture_leaf(c.at("zb"));
  const Tensor la = fixture_leaf(c.at("logits_a")), lb = fixture_leaf(c.at("logits_b"));
  const ContrastiveClusteringLoss l =
      contrastive_clustering_loss(za, zb, softmax(la, 1), softmax(lb, 1));
  EXPECT_NEAR(l.instance.item(), c.at("instance").get<double>(), 1e-5);
  EXPECT_NEAR(l.contrast.item(), c.at("contrast").get<double>(), 1e-5);
  EXPECT_NEAR(l.entropy.item(), c.at("entropy").get<double>(), 1e-5);
  EXPECT_NEAR(l.cluster.item(), c.at("cluster").get<double>(), 1e-5);
  EXPECT_NEAR(l.total.item(), c.at("total").get<double>(), 1e-5);
  l.total.backward();
  expect_grads({za, zb, la, lb}, c.at("grads"));
}

TEST(ContrastiveClustering, EntropyIsLogKForUniformUseAndGradchecks) {
  // Every cluster used equally: the marginal is uniform, H = log K.
  const Tensor p = Tensor::from_vector<float>({1, 0, 0, 0, 1, 0, 0, 0, 1}, {3, 3});
  EXPECT_NEAR(marginal_entropy(p).item(), std::log(3.0), 1e-6);
  const Tensor za = testing::uniform({3, 4}, -1, 1, DType::kF64, 8);
  const Tensor zb = testing::uniform({3, 4}, -1, 1, DType::kF64, 9);
  const Tensor la = testing::uniform({3, 2}, -1, 1, DType::kF64, 10);
  const Tensor lb = testing::uniform({3, 2}, -1, 1, DType::kF64, 11);
  EXPECT_GRADCHECK(
      [](const std::vector<Tensor>& x) {
        return contrastive_clustering_loss(x[0], x[1], softmax(x[2], 1), softmax(x[3], 1)).total;
      },
      {za, zb, la, lb});
}

TEST(ContrastiveClustering, HeadGivesDistributions) {
  Generator gen(3);
  ClusterHead head(6, 4, gen);
  const Tensor p = head.forward(testing::uniform({5, 6}, -1, 1, DType::kF32));
  ASSERT_EQ(p.shape(), (Shape{5, 4}));
  for (double s : sum(p, {1}).to_vector<double>()) EXPECT_NEAR(s, 1.0, 1e-6);
  EXPECT_EQ(head.parameters().size(), 4u);
}

TEST(Swav, MatchesTorch) {
  const json& c = align_fixture().at("swav");
  const Tensor za = fixture_leaf(c.at("za")), zb = fixture_leaf(c.at("zb"));
  const Tensor protos = fixture_leaf(c.at("prototypes"));
  Generator gen(0);
  Prototypes p(5, 4, gen);
  p.weight = protos;  // use the fixture's leaf directly so its gradient is visible
  const SwavLoss l = swav_loss(p.forward(za), p.forward(zb));
  EXPECT_TRUE(AllClose(l.codes_a, fixture_tensor(c.at("codes_a")), 1e-5, 1e-4));
  EXPECT_TRUE(AllClose(l.codes_b, fixture_tensor(c.at("codes_b")), 1e-5, 1e-4));
  EXPECT_NEAR(l.loss.item(), c.at("loss").get<double>(), 1e-4);
  l.loss.backward();
  expect_grads({za, zb, protos}, c.at("grads"));
}

TEST(Swav, SinkhornBalancesClusters) {
  // Scores that favour prototype 0 for everyone: the codes still spread the batch evenly
  // (column sums approach B/K), each row a distribution.
  const Tensor s =
      Tensor::from_vector<float>({0.9f, 0.1f, 0.8f, 0.2f, 0.7f, 0.3f, 0.95f, 0.0f}, {4, 2});
  const std::vector<double> q = sinkhorn_knopp(s, 0.05, 10).to_vector<double>();
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(q[2 * i] + q[2 * i + 1], 1.0, 1e-6);
  // Unbalanced (a plain softmax of s/ε) prototype 0 would take almost all 4 samples.
  EXPECT_NEAR(q[0] + q[2] + q[4] + q[6], 2.0, 0.05);
  EXPECT_THROW(sinkhorn_knopp(s, 0.0, 3), Error);
}

TEST(SupCon, MatchesTorch) {
  const json& c = align_fixture().at("supcon");
  const Tensor z = fixture_leaf(c.at("z"));
  const Tensor loss = supcon_loss(z, fixture_tensor(c.at("labels")));
  EXPECT_NEAR(loss.item(), c.at("loss").get<double>(), 1e-4);
  loss.backward();
  expect_grads({z}, c.at("grads"));
}

TEST(SupCon, ClassPromptsAsCandidatesOrAnchorsMatchTorch) {
  for (const char* name : {"supcon_prompts_candidates", "supcon_prompts_anchors"}) {
    SCOPED_TRACE(name);
    const json& c = align_fixture().at(name);
    const Tensor z = fixture_leaf(c.at("z")), prompts = fixture_leaf(c.at("prompts"));
    // Split the samples over two "modalities" to exercise the multi-modal concatenation.
    const Tensor z1 = z.narrow(0, 0, 5), z2 = z.narrow(0, 5, 3);
    const Tensor y = fixture_tensor(c.at("labels"));
    const Tensor loss = supcon_with_prompts({z1, z2}, {y.narrow(0, 0, 5), y.narrow(0, 5, 3)},
                                            prompts, fixture_tensor(c.at("prompt_labels")),
                                            c.at("prompts_as_anchors").get<bool>());
    EXPECT_NEAR(loss.item(), c.at("loss").get<double>(), 1e-4);
    loss.backward();
    expect_grads({z, prompts}, c.at("grads"));
  }
}

TEST(SupCon, GradcheckAndErrors) {
  const Tensor z = testing::uniform({6, 3}, -1, 1, DType::kF64, 12);
  const Tensor y = Tensor::from_vector<int64_t>({0, 1, 0, 1, 2, 2}, {6});
  EXPECT_GRADCHECK([&](const std::vector<Tensor>& x) { return supcon_loss(x[0], y); }, {z});
  EXPECT_THROW(supcon_loss(z, Tensor::from_vector<int64_t>({0, 1, 2, 3, 4, 5}, {6})), Error);
  EXPECT_THROW(supcon_loss(z, Tensor::from_vector<int64_t>({0, 1}, {2})), Error);
}

}  // namespace
}  // namespace chorus::align
