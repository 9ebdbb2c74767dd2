// AdamW and SGD trajectories and clip_grad_norm against PyTorch 1.13
// (tests/fixtures/optim_reference.json, written by tools/fixtures/optim_reference.py).
#include <gtest/gtest.h>

#include <limits>
#include <memory>

#include "core/optim/adamw.h"
#include "core/optim/clip.h"
#include "core/optim/sgd.h"
#include "optim_test_util.h"
#include "test_util.h"

namespace chorus::optim {
namespace {

using testing::AllClose;
using testing::json;
using testing::load_tensor;
using testing::optim_cases;

AdamWOptions adamw_options(const json& o) {
  return AdamWOptions{o.at("lr"), o.at("beta1"), o.at("beta2"), o.at("eps"), o.at("weight_decay")};
}

SGDOptions sgd_options(const json& o) {
  return SGDOptions{o.at("lr"), o.at("momentum"), o.at("dampening"), o.at("weight_decay"),
                    o.at("nesterov")};
}

// Builds the case's optimizer over fresh f32 leaves, feeds the fixture's gradients and
// compares every parameter after every step with PyTorch's.
void check_trajectory(const std::string& case_name) {
  SCOPED_TRACE(case_name);
  const json& c = optim_cases().at(case_name);
  std::map<std::string, Tensor> by_name;
  std::vector<Tensor> leaves;
  for (const json& p : c.at("params")) {
    Tensor t = load_tensor(p.at("init"));
    t.set_requires_grad();
    by_name[p.at("name")] = t;
    leaves.push_back(t);
  }
  std::unique_ptr<Optimizer> opt;
  if (c.at("optimizer") == "adamw") {
    std::vector<ParamGroup<AdamWOptions>> groups;
    for (const json& g : c.at("groups")) {
      NamedTensors ps;
      for (const json& n : g.at("params")) ps.emplace_back(n, by_name.at(n));
      groups.push_back({ps, adamw_options(g.at("options"))});
    }
    opt = std::make_unique<AdamW>(groups);
  } else {
    std::vector<ParamGroup<SGDOptions>> groups;
    for (const json& g : c.at("groups")) {
      NamedTensors ps;
      for (const json& n : g.at("params")) ps.emplace_back(n, by_name.at(n));
      groups.push_back({ps, sgd_options(g.at("options"))});
    }
    opt = std::make_unique<SGD>(groups);
  }
  const json& grads = c.at("grads");
  const json& traj = c.at("trajectory");
  ASSERT_EQ(grads.size(), 5u);
  for (size_t s = 0; s < grads.size(); ++s) {
    for (size_t i = 0; i < leaves.size(); ++i) leaves[i].set_grad(load_tensor(grads[s][i]));
    opt->step();
    for (size_t i = 0; i < leaves.size(); ++i) {
      EXPECT_TRUE(AllClose(leaves[i], load_tensor(traj[s][i]), 1e-6, 1e-6))
          << "step " << s + 1 << ", parameter " << i;
    }
  }
  EXPECT_EQ(opt->steps(), 5);
}

TEST(OptimTorchReference, AdamWDefaults) { check_trajectory("adamw_default"); }
TEST(OptimTorchReference, AdamWCustomHyperParameters) { check_trajectory("adamw_custom"); }
TEST(OptimTorchReference, AdamWTwoGroups) { check_trajectory("adamw_groups"); }
TEST(OptimTorchReference, SGDMomentum) { check_trajectory("sgd_momentum"); }
TEST(OptimTorchReference, SGDDampeningWeightDecay) { check_trajectory("sgd_dampening_wd"); }
TEST(OptimTorchReference, SGDNesterov) { check_trajectory("sgd_nesterov"); }
TEST(OptimTorchReference, SGDPlainWeightDecay) { check_trajectory("sgd_plain_wd"); }

TEST(OptimTorchReference, AdamWDefaultsMatchPyTorch) {
  const AdamWOptions o;
  EXPECT_EQ(o.lr, 1e-3);
  EXPECT_EQ(o.beta1, 0.9);
  EXPECT_EQ(o.beta2, 0.999);
  EXPECT_EQ(o.eps, 1e-8);
  EXPECT_EQ(o.weight_decay, 1e-2);
}

TEST(OptimTorchReference, ClipGradNorm) {
  const json& c = optim_cases().at("clip_grad_norm");
  for (const json& k : c.at("cases")) {
    SCOPED_TRACE(k.dump().substr(0, 60));
    std::vector<Tensor> params;
    for (const json& g : c.at("grads")) {
      Tensor p = Tensor::zeros(load_tensor(g).shape());
      p.set_requires_grad();
      p.set_grad(load_tensor(g));
      params.push_back(p);
    }
    const double norm_type = k.at("norm_type").is_string() ? std::numeric_limits<double>::infinity()
                                                           : k.at("norm_type").get<double>();
    const double total = clip_grad_norm(params, k.at("max_norm").get<double>(), norm_type);
    const double want = k.at("total").get<double>();
    EXPECT_NEAR(total, want, 1e-6 * want);
    for (size_t i = 0; i < params.size(); ++i) {
      EXPECT_TRUE(AllClose(params[i].grad(), load_tensor(k.at("clipped")[i]), 1e-6, 1e-6))
          << "gradient " << i;
    }
  }
}

}  // namespace
}  // namespace chorus::optim
