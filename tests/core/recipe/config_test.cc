// End to end: a recipe file (with defaults, interpolation and overrides) -> RecipeConfig, and
// the resolved recipe reloads to the same config.
#include "core/recipe/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/recipe/recipe.h"
#include "tests/core/recipe/recipe_testing.h"

namespace chorus::recipe {
namespace {

using testing::fixture;
using testing::with_fake_plugins;

TEST(RecipeConfig, FullFixture) {
  auto r = load_recipe(fixture("good/full.yaml"), with_fake_plugins());
  ASSERT_TRUE(r.ok()) << r.status().message();
  const RecipeConfig& c = r->config;
  const std::string dir = std::filesystem::path(fixture("good")).lexically_normal().string();

  EXPECT_EQ(c.run.name, "full");
  EXPECT_EQ(c.run.seed, 7u);
  EXPECT_FALSE(c.run.seed_generated);
  EXPECT_EQ(c.run.output_root, dir + "/out");  // set in base.yaml, relative to base.yaml
  EXPECT_EQ(c.run.threads, 2);
  EXPECT_EQ(c.model.shared_width, 256);
  EXPECT_EQ(c.model.core.layers, 2);   // base.yaml
  EXPECT_EQ(c.model.core.experts, 8);  // full.yaml, merged into base.yaml's core
  EXPECT_EQ(c.model.core.ffn, FfnKind::kMoe);

  ASSERT_EQ(c.modalities.size(), 3u);
  EXPECT_EQ(c.modalities[0].name, "image");
  EXPECT_EQ(c.modalities[0].options, (nlohmann::json{{"size", 28}}));
  EXPECT_EQ(c.modalities[1].options, nlohmann::json::object());
  EXPECT_EQ(c.modalities[2].options, (nlohmann::json{{"n_mels", 80}}));
  EXPECT_TRUE(r->plugins_checked);

  ASSERT_EQ(c.data.manifests.size(), 2u);  // full.yaml's list replaced base.yaml's
  EXPECT_EQ(c.data.manifests[0].path, dir + "/data/train.jsonl");
  EXPECT_EQ(c.data.manifests[0].weight, 2.0);
  EXPECT_EQ(c.data.manifests[1].weight, 1.0);
  EXPECT_EQ(c.data.batch_size, 32);
  EXPECT_EQ(c.data.on_bad_sample, BadSample::kFail);
  EXPECT_EQ(c.data.num_classes, 2);
  EXPECT_EQ(c.data.classes, dir + "/data/classes.json");

  ASSERT_EQ(c.stages.size(), 3u);
  const StageConfig& s0 = c.stages[0];
  EXPECT_EQ(s0.kind, StageKind::kInstance);
  EXPECT_EQ(s0.steps, 100);
  EXPECT_FALSE(s0.epochs);
  EXPECT_DOUBLE_EQ(s0.optimizer.lr, 1e-3);
  EXPECT_DOUBLE_EQ(s0.optimizer.beta2, 0.98);
  EXPECT_EQ(s0.schedule.warmup_steps, 10);
  EXPECT_EQ(s0.frozen, std::vector<std::string>{"image.encoder.*"});
  EXPECT_EQ(s0.pairs, (std::vector<ModalityPair>{{"image", "text"}, {"audio", "text"}}));
  EXPECT_EQ(s0.anchor, "text");
  ASSERT_TRUE(s0.losses.instance);
  EXPECT_TRUE(s0.losses.instance->learnable_temperature);
  EXPECT_NEAR(s0.losses.instance->init, std::log(1 / 0.07), 1e-9);
  EXPECT_NEAR(s0.losses.instance->max, std::log(100.0), 1e-9);
  EXPECT_FALSE(s0.losses.cluster);

  const StageConfig& s1 = c.stages[1];
  EXPECT_EQ(s1.epochs, 0.5);
  EXPECT_DOUBLE_EQ(s1.optimizer.lr, 1e-3);  // ${stages.0.optimizer.lr}
  EXPECT_EQ(s1.pairs, s0.pairs);            // ${stages.0.pairs}
  ASSERT_TRUE(s1.losses.instance && s1.losses.cluster);
  EXPECT_FALSE(s1.losses.instance->learnable_temperature);
  EXPECT_DOUBLE_EQ(s1.losses.instance->temperature, 0.5);
  EXPECT_EQ(s1.losses.cluster->method, ClusterMethod::kSwav);
  EXPECT_EQ(s1.losses.cluster->clusters, 10);
  EXPECT_DOUBLE_EQ(s1.losses.cluster->sinkhorn_eps, 0.05);
  EXPECT_EQ(s1.losses.cluster->sinkhorn_iters, 3);
  EXPECT_DOUBLE_EQ(s1.losses.cluster->tau_c, 1.0);
  EXPECT_DOUBLE_EQ(s1.losses.cluster->tau_i, 0.5);

  const StageConfig& s2 = c.stages[2];
  ASSERT_TRUE(s2.losses.semantic);
  EXPECT_DOUBLE_EQ(s2.losses.semantic->tau, 0.1);
  EXPECT_EQ(s2.losses.semantic->positives, Positives::kLabels);
  EXPECT_DOUBLE_EQ(s2.optimizer.weight_decay, 0.0);

  ASSERT_EQ(c.tasks.size(), 1u);
  EXPECT_EQ(c.tasks[0].name, "vqa");
  EXPECT_EQ(c.tasks[0].weights, (std::map<std::string, double>{{"image", 0.7}, {"text", 0.3}}));
  EXPECT_EQ(c.tasks[0].mode, WeightMode::kLearned);

  ASSERT_TRUE(c.eval.zero_shot);
  EXPECT_EQ(c.eval.zero_shot->classes, c.data.classes);  // falls back to data.classes
  ASSERT_TRUE(c.eval.retrieval);
  EXPECT_EQ(c.eval.retrieval->ks, (std::vector<int64_t>{1, 5}));
  EXPECT_EQ(c.eval.retrieval->pairs, s0.pairs);  // every trained pair, once
  ASSERT_TRUE(c.eval.emergent);
  EXPECT_EQ(c.eval.emergent->pairs, (std::vector<ModalityPair>{{"audio", "image"}}));
  EXPECT_FALSE(c.eval.linear_probe);
  EXPECT_EQ(c.eval.clustering->k, 2);
  EXPECT_EQ(c.checkpoint.every, 50);
  EXPECT_EQ(c.checkpoint.keep_last, 2);
  EXPECT_EQ(c.resume.mode, ResumeMode::kLatest);
}

TEST(RecipeConfig, OverridesApplyBeforeInterpolation) {
  LoadOptions options = with_fake_plugins();
  options.overrides = {"stages.0.optimizer.lr=0.01", "~eval.emergent", "data.batch_size=4",
                       "+modalities.image.options.size=64"};
  auto r = load_recipe(fixture("good/full.yaml"), options);
  // size is already in base.yaml: '+' refuses it.
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'modalities.image.options.size' is already in the recipe"),
            std::string::npos);
  options.overrides.back() = "modalities.image.options.size=64";
  r = load_recipe(fixture("good/full.yaml"), options);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_DOUBLE_EQ(r->config.stages[1].optimizer.lr, 0.01);  // the reference follows
  EXPECT_FALSE(r->config.eval.emergent);
  EXPECT_EQ(r->config.data.batch_size, 4);
  EXPECT_EQ(r->config.modalities[0].options["size"], 64);
}

TEST(RecipeConfig, SeedIsGeneratedAndRecordedWhenAbsent) {
  LoadOptions options;
  options.seed = 1234;
  auto r = load_recipe(fixture("good/minimal.yaml"), options);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->config.run.seed, 1234u);
  EXPECT_TRUE(r->config.run.seed_generated);
  EXPECT_EQ(r->config.run.name, "minimal");  // the file's name
  EXPECT_NE(r->resolved_yaml().find("seed: 1234"), std::string::npos);
  EXPECT_FALSE(r->plugins_checked);

  // Without a fixed seed, two loads draw different seeds (2^-53 chance of a false failure).
  auto a = load_recipe(fixture("good/minimal.yaml"));
  auto b = load_recipe(fixture("good/minimal.yaml"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->config.run.seed, b->config.run.seed);
}

TEST(RecipeConfig, ResolvedRecipeReloadsToTheSameConfig) {
  auto first = load_recipe(fixture("good/full.yaml"), with_fake_plugins());
  ASSERT_TRUE(first.ok()) << first.status().message();
  const std::string path = std::filesystem::temp_directory_path() /
                           ("chorus_resolved_" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << first->resolved_yaml();
  auto second = load_recipe(path, with_fake_plugins());
  std::filesystem::remove(path);
  ASSERT_TRUE(second.ok()) << second.status().message() << "\n" << first->resolved_yaml();
  EXPECT_EQ(second->resolved_yaml(), first->resolved_yaml());
  EXPECT_EQ(second->config.stages[1].pairs, first->config.stages[1].pairs);
  EXPECT_EQ(second->config.data.manifests[0].path, first->config.data.manifests[0].path);
  EXPECT_EQ(second->config.run.seed, first->config.run.seed);
}

TEST(RecipeConfig, RawTreeKeepsInterpolationsAsWritten) {
  auto r = load_recipe(fixture("good/full.yaml"), with_fake_plugins());
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->raw_yaml().find("${stages.0.pairs}"), std::string::npos);
  EXPECT_EQ(r->raw_yaml().find("defaults"), std::string::npos);
}

}  // namespace
}  // namespace chorus::recipe
