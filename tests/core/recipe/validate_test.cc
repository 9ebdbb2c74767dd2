// Schema validation: every kind of problem, all reported at once, with locations and
// suggestions; defaults filled; paths resolved against the file that wrote them.
#include "core/recipe/validate.h"

#include <gtest/gtest.h>

#include "core/recipe/cross_checks.h"
#include "core/recipe/yaml_reader.h"

namespace chorus::recipe {
namespace {

const char* kValid =
    "modalities:\n"
    "  image: {plugin: image}\n"
    "  text: {plugin: text}\n"
    "data:\n"
    "  manifests: [{path: train.jsonl}]\n"
    "stages:\n"
    "  - name: s\n"
    "    kind: instance\n"
    "    steps: 10\n"
    "    optimizer: {lr: 0.001}\n"
    "    pairs: [[image, text]]\n";

struct Checked {
  Node root;
  std::vector<std::string> errors;
};

Checked check(const std::string& text, const std::string& file = "/recipes/v.yaml") {
  Diagnostics diags;
  auto root = parse_yaml(text, file, diags);
  EXPECT_TRUE(root) << diags.str();
  ValidateOptions options;
  options.check_files = false;
  validate(*root, engine_schema(), options, diags);
  cross_check(*root, options, diags);
  Checked out{*root, {}};
  for (const Diagnostic& d : diags.list()) out.errors.push_back(d.str());
  return out;
}

TEST(Validate, AValidRecipeGetsItsDefaults) {
  auto c = check(kValid);
  ASSERT_TRUE(c.errors.empty()) << c.errors[0];
  EXPECT_EQ(lookup(c.root, {"model", "shared_width"})->value(), "2048");
  EXPECT_EQ(lookup(c.root, {"model", "core", "ffn"})->value(), "moe");
  EXPECT_EQ(lookup(c.root, {"data", "batch_size"})->value(), "64");
  EXPECT_EQ(lookup(c.root, {"stages", "0", "optimizer", "betas", "1"})->value(), "0.999");
  EXPECT_EQ(lookup(c.root, {"stages", "0", "schedule", "kind"})->value(), "cosine");
  EXPECT_EQ(lookup(c.root, {"checkpoint", "keep_last"})->value(), "3");
  EXPECT_EQ(lookup(c.root, {"resume"})->value(), "none");
  // A stage without losses gets its kind's loss with the published defaults.
  EXPECT_EQ(lookup(c.root, {"stages", "0", "losses", "instance", "temperature"})->value(),
            "learnable");
  EXPECT_EQ(lookup(c.root, {"model", "shared_width"})->loc().origin,
            "default of model.shared_width");
}

TEST(Validate, PathsResolveAgainstTheirFile) {
  auto c = check(kValid, "/recipes/sub/v.yaml");
  ASSERT_TRUE(c.errors.empty());
  EXPECT_EQ(lookup(c.root, {"data", "manifests", "0", "path"})->value(),
            "/recipes/sub/train.jsonl");
}

TEST(Validate, UnknownKeySuggestsTheClosestOne) {
  auto c = check(std::string(kValid) + "model:\n  shared_widht: 512\n");
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.errors[0],
            "/recipes/v.yaml:13:3: model.shared_widht: unknown key 'shared_widht' (did you mean "
            "'shared_width'?); expected one of: shared_width, core");
}

TEST(Validate, UnknownSectionWithoutAnyCloseKeyListsTheValidOnes) {
  auto c = check(std::string(kValid) + "zzzzzz: 1\n");
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_NE(c.errors[0].find("unknown key 'zzzzzz'; expected one of: run, plugin_paths, model"),
            std::string::npos)
      << c.errors[0];
}

TEST(Validate, WrongTypes) {
  auto c = check(std::string(kValid) +
                 "run: {seed: \"12\", threads: 1.5, device: gpu}\nmodel: {core: {bias_balancing: "
                 "yes, layers: [1]}}\n");
  ASSERT_EQ(c.errors.size(), 5u);
  EXPECT_EQ(c.errors[0], "/recipes/v.yaml:12:13: run.seed: expected int, got string \"12\"");
  EXPECT_EQ(c.errors[1], "/recipes/v.yaml:12:28: run.threads: expected int, got number 1.5");
  EXPECT_EQ(c.errors[2],
            "/recipes/v.yaml:12:41: run.device: expected 'cpu' or 'cuda:N', got 'gpu'");
  EXPECT_EQ(c.errors[3],
            "/recipes/v.yaml:13:32: model.core.bias_balancing: expected bool, got 'yes'");
  EXPECT_EQ(c.errors[4], "/recipes/v.yaml:13:45: model.core.layers: expected int, got a list");
}

TEST(Validate, RangesAndChoices) {
  auto c = check(
      "modalities: {image: {plugin: image}, text: {plugin: text}}\n"
      "data: {manifests: [{path: t.jsonl, weight: 0}], on_bad_sample: skipp}\n"
      "stages:\n"
      "  - {name: s, kind: instanse, steps: 0, optimizer: {lr: -1e-3, betas: [0.9]},\n"
      "     pairs: [[image, text]], schedule: {min_lr_ratio: 2}}\n");
  const std::string all = [&] {
    std::string s;
    for (auto& e : c.errors) s += e + "\n";
    return s;
  }();
  EXPECT_NE(all.find("data.manifests.0.weight: must be > 0, got 0"), std::string::npos) << all;
  EXPECT_NE(all.find("data.on_bad_sample: expected one of skip, fail, got 'skipp' (did you mean "
                     "'skip'?)"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("stages.0.kind: expected one of instance, cluster, semantic, task, got "
                     "'instanse' (did you mean 'instance'?)"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("stages.0.steps: must be >= 1, got 0"), std::string::npos);
  EXPECT_NE(all.find("/recipes/v.yaml:4:57: stages.0.optimizer.lr: must be > 0, got -1e-3"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("stages.0.optimizer.betas: expected exactly 2 items, got 1"),
            std::string::npos);
  EXPECT_NE(all.find("stages.0.schedule.min_lr_ratio: must be <= 1, got 2"), std::string::npos);
  EXPECT_EQ(c.errors.size(), 7u) << all;
}

TEST(Validate, MissingRequiredKeysAreReportedAtTheirSection) {
  auto c = check("modalities: {image: {plugin: image}}\nstages:\n  - name: s\n    steps: 1\n");
  std::string all;
  for (auto& e : c.errors) all += e + "\n";
  EXPECT_NE(all.find("/recipes/v.yaml:1:1: data: missing required key 'data'"), std::string::npos)
      << all;
  EXPECT_NE(all.find("/recipes/v.yaml:3:5: stages.0.kind: missing required key 'kind'"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("stages.0.optimizer: missing required key 'optimizer'"), std::string::npos);
  EXPECT_NE(all.find("stages.0.pairs: missing required key 'pairs'"), std::string::npos);
}

TEST(Validate, CrossChecks) {
  auto c = check(
      "modalities: {image: {plugin: image}, text: {plugin: text}}\n"
      "data: {manifests: [{path: t.jsonl}]}\n"
      "model: {core: {experts: 2, top_k: 4}}\n"
      "tasks: {vqa: {weights: {imagee: 1.0}}}\n"
      "stages:\n"
      "  - {name: a, kind: instance, steps: 1, epochs: 1, optimizer: {lr: 1}, pairs: [[image, "
      "txt]], anchor: audio}\n"
      "  - {name: a, kind: cluster, optimizer: {lr: 1}, pairs: [[image, image]]}\n");
  std::string all;
  for (auto& e : c.errors) all += e + "\n";
  EXPECT_NE(all.find("model.core.top_k: top_k 4 exceeds the number of experts (2)"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("tasks.vqa.weights.imagee: unknown modality 'imagee' (did you mean "
                     "'image'?)"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("stages.0: give steps or epochs, not both"), std::string::npos);
  EXPECT_NE(all.find("stages.0.pairs.0.1: unknown modality 'txt' (did you mean 'text'?)"),
            std::string::npos);
  EXPECT_NE(all.find("stages.0.anchor: unknown modality 'audio'"), std::string::npos);
  EXPECT_NE(all.find("stages.1.name: duplicate stage name 'a' (first used at line 6)"),
            std::string::npos);
  EXPECT_NE(all.find("stages.1: missing stage length: give steps or epochs"), std::string::npos);
  EXPECT_NE(all.find("stages.1.pairs.0: a pair needs two different modalities"), std::string::npos);
  // The cluster stage got a default cluster loss, whose K is required.
  EXPECT_NE(all.find("stages.1.losses.cluster.clusters: missing required key 'clusters'"),
            std::string::npos)
      << all;
}

TEST(Validate, ModalitiesMustNameOne) {
  auto c = check(
      "modalities: {}\ndata: {manifests: [{path: t.jsonl}]}\n"
      "stages: [{name: s, kind: instance, steps: 1, optimizer: {lr: 1}, pairs: [[a, b]]}]\n");
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.errors[0],
            "/recipes/v.yaml:1:13: modalities: no modalities: name at least one, e.g. image: "
            "{plugin: image}");
}

TEST(Validate, NullMeansDefaultOrAbsent) {
  auto c = check(std::string(kValid) + "run:\n  device:\n  seed:\ncheckpoint:\n");
  ASSERT_TRUE(c.errors.empty()) << c.errors[0];
  EXPECT_EQ(lookup(c.root, {"run", "device"})->value(), "cpu");
  EXPECT_EQ(lookup(c.root, {"run", "seed"}), nullptr);
  EXPECT_EQ(lookup(c.root, {"checkpoint", "every"})->value(), "1000");
}

}  // namespace
}  // namespace chorus::recipe
