// Optimizer state as named tensors: names and dtypes, bit-exact resume (through a safetensors
// file, as a checkpoint does), and validation of what is loaded.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <memory>

#include "core/io/safetensors.h"
#include "core/optim/adamw.h"
#include "core/optim/sgd.h"
#include "optim_test_util.h"
#include "test_util.h"

namespace chorus::optim {
namespace {

using testing::SameBits;
using testing::TinyBlock;

// A bf16 model with one f32 parameter converted back, so both update paths are covered.
std::unique_ptr<TinyBlock> mixed_model() {
  auto m = std::make_unique<TinyBlock>(DType::kBF16);
  m->norm_weight.set_data(m->norm_weight.to(DType::kF32));
  return m;
}

using MakeOptimizer = std::function<std::unique_ptr<Optimizer>(const nn::Module&)>;

void step_with_grads(TinyBlock& m, Optimizer& opt, int64_t s) {
  testing::set_grads(m.named_parameters(), s, DType::kBF16);
  opt.step();
  opt.zero_grad();
}

std::string temp_file() {
  std::string dir = (std::filesystem::temp_directory_path() / "chorus_optim_XXXXXX").string();
  EXPECT_NE(mkdtemp(dir.data()), nullptr);
  return dir + "/optimizer.safetensors";
}

// 5 uninterrupted steps vs 3 steps, save (to a safetensors file), a fresh model and optimizer,
// load, 2 more steps: parameters, masters and buffers must agree bit for bit.
void check_resume(const MakeOptimizer& make) {
  auto a = mixed_model();
  auto opt_a = make(*a);
  for (int64_t s = 0; s < 5; ++s) step_with_grads(*a, *opt_a, s);

  auto b = mixed_model();
  auto opt_b = make(*b);
  for (int64_t s = 0; s < 3; ++s) step_with_grads(*b, *opt_b, s);
  const std::string path = temp_file();
  ASSERT_TRUE(save_safetensors(path, opt_b->state_dict()).ok());
  auto model_state = b->state_dict();

  auto c = mixed_model();  // fresh: initial values, as after a restart
  std::map<std::string, Tensor> model_map(model_state.begin(), model_state.end());
  ASSERT_TRUE(c->load_state_dict(model_map).ok());
  auto opt_c = make(*c);
  auto file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  auto loaded = file->load_all();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const absl::Status st = opt_c->load_state_dict(*loaded);
  ASSERT_TRUE(st.ok()) << st;
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
  EXPECT_EQ(opt_c->steps(), 3);
  for (int64_t s = 3; s < 5; ++s) step_with_grads(*c, *opt_c, s);

  EXPECT_EQ(opt_c->steps(), opt_a->steps());
  const NamedTensors pa = a->named_parameters(), pc = c->named_parameters();
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(SameBits(pc[i].second, pa[i].second)) << pa[i].first;
  }
  const auto sa = opt_a->state_dict(), sc = opt_c->state_dict();
  ASSERT_EQ(sa.size(), sc.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i].first, sc[i].first);
    EXPECT_TRUE(SameBits(sa[i].second, sc[i].second)) << sa[i].first;
  }
}

TEST(OptimizerState, AdamWResumeIsBitExact) {
  check_resume([](const nn::Module& m) {
    return std::make_unique<AdamW>(decay_groups(m, AdamWOptions{.lr = 0.01, .weight_decay = 0.1}));
  });
}

TEST(OptimizerState, SGDMomentumResumeIsBitExact) {
  check_resume([](const nn::Module& m) {
    return std::make_unique<SGD>(m.named_parameters(),
                                 SGDOptions{.lr = 0.05, .momentum = 0.9, .weight_decay = 0.01});
  });
}

TEST(OptimizerState, NamesAndDtypes) {
  auto m = mixed_model();
  AdamW opt(m->named_parameters());
  EXPECT_EQ(opt.state_dict().size(), 1u);  // just "step" before any update
  step_with_grads(*m, opt, 0);
  std::map<std::string, Tensor> sd;
  for (const auto& [k, t] : opt.state_dict()) sd[k] = t;
  ASSERT_TRUE(sd.count("step"));
  EXPECT_EQ(sd["step"].dtype(), DType::kI64);
  EXPECT_EQ(sd["step"].dim(), 0);
  EXPECT_EQ(sd["step"].item(), 1.0);
  EXPECT_EQ(sd.at("state.proj_weight.step").dtype(), DType::kI64);
  EXPECT_EQ(sd.at("state.proj_weight.exp_avg").dtype(), DType::kF32);
  EXPECT_EQ(sd.at("state.proj_weight.exp_avg_sq").shape(), (Shape{4, 3}));
  EXPECT_EQ(sd.at("master.proj_weight").dtype(), DType::kF32);
  EXPECT_FALSE(sd.count("master.norm_scale"));  // f32 parameter: updated in place
  EXPECT_TRUE(sd.count("state.norm_scale.exp_avg"));
  // 6 parameters: step + 6 * (step, exp_avg, exp_avg_sq) + 5 masters.
  EXPECT_EQ(sd.size(), 1u + 18u + 5u);

  Tensor p = Tensor::ones({2});
  SGD plain({{"p", p}}, SGDOptions{.lr = 0.1});  // no momentum: no buffer
  p.set_grad(Tensor::ones({2}));
  plain.step();
  EXPECT_EQ(plain.state_dict().size(), 2u);
}

TEST(OptimizerState, LoadedStateIsACopy) {
  auto m = mixed_model();
  AdamW opt(m->named_parameters());
  step_with_grads(*m, opt, 0);
  std::map<std::string, Tensor> sd;
  for (const auto& [k, t] : opt.state_dict()) sd[k] = t.clone();
  AdamW other(m->named_parameters());
  ASSERT_TRUE(other.load_state_dict(sd).ok());
  sd.at("state.bias.exp_avg").fill_(42.0);
  EXPECT_NE(other.state("bias")->buffers.at("exp_avg").to_vector<float>()[0], 42.0f);
}

TEST(OptimizerState, BadStateIsRejectedWholesale) {
  auto m = mixed_model();
  AdamW opt(m->named_parameters());
  step_with_grads(*m, opt, 0);
  std::map<std::string, Tensor> good;
  for (const auto& [k, t] : opt.state_dict()) good[k] = t.clone();

  AdamW target(m->named_parameters());
  auto expect_error = [&](std::map<std::string, Tensor> sd, const std::string& needle) {
    const absl::Status st = target.load_state_dict(sd);
    EXPECT_FALSE(st.ok()) << needle;
    EXPECT_NE(st.message().find(needle), std::string::npos) << st.message();
    EXPECT_EQ(target.steps(), 0);  // nothing changed
    EXPECT_EQ(target.state("bias"), nullptr);
  };
  auto with = [&](const std::string& key, Tensor t) {
    auto sd = good;
    sd[key] = t;
    return sd;
  };
  auto without = [&](const std::string& key) {
    auto sd = good;
    sd.erase(key);
    return sd;
  };
  expect_error(with("state.nope.exp_avg", Tensor::zeros({1})), "names no parameter");
  expect_error(with("state.bias.max_exp_avg_sq", Tensor::zeros({4})), "unexpected");
  expect_error(with("state.bias.exp_avg", Tensor::zeros({5})), "state.bias.exp_avg");
  expect_error(with("state.bias.exp_avg", Tensor::zeros({4}, DType::kBF16)), "expected f32");
  expect_error(with("master.norm_scale", Tensor::zeros({3})), "unexpected 'master.norm_scale'");
  expect_error(with("master.bias", Tensor::zeros({4}, DType::kF64)), "master.bias");
  expect_error(with("step", Tensor::scalar(1.0)), "i64 scalar");
  expect_error(with("bogus", Tensor::scalar(1.0)), "unexpected 'bogus'");
  expect_error(without("step"), "missing or invalid 'step'");
  expect_error(without("state.bias.exp_avg_sq"), "missing 'state.bias.exp_avg_sq'");
  expect_error(without("master.bias"), "missing 'master.bias'");
  expect_error(without("state.bias.step"), "state.bias.step");
  // Every problem is reported at once.
  auto many = with("bogus", Tensor::scalar(1.0));
  many.erase("master.bias");
  const absl::Status st = target.load_state_dict(many);
  EXPECT_NE(st.message().find("bogus"), std::string::npos);
  EXPECT_NE(st.message().find("master.bias"), std::string::npos);
  ASSERT_TRUE(target.load_state_dict(good).ok());
  EXPECT_EQ(target.steps(), 1);
}

}  // namespace
}  // namespace chorus::optim
