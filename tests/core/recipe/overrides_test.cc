// Command-line overrides: set, add, remove, list indices, YAML values, and their errors.
#include "core/recipe/overrides.h"

#include <gtest/gtest.h>

#include "core/recipe/yaml_reader.h"

namespace chorus::recipe {
namespace {

Node tree() {
  Diagnostics diags;
  auto root = parse_yaml(
      "run: {name: demo}\n"
      "data: {manifests: [{path: a.jsonl}], batch_size: 8}\n"
      "modalities: {image: {plugin: image, options: {size: 28}}}\n"
      "stages:\n  - {name: s0, steps: 10}\n  - {name: s1, steps: 20}\n",
      "r.yaml", diags);
  EXPECT_TRUE(root) << diags.str();
  return *root;
}

std::string apply(Node& root, std::vector<std::string> overrides) {
  Diagnostics diags;
  apply_overrides(root, overrides, engine_schema(), diags);
  return diags.str();
}

TEST(Overrides, SetsExistingKeysAndListItems) {
  Node root = tree();
  EXPECT_EQ(apply(root, {"data.batch_size=32", "stages.1.steps=100", "run.name=other"}), "");
  EXPECT_EQ(lookup(root, {"data", "batch_size"})->value(), "32");
  EXPECT_EQ(lookup(root, {"stages", "1", "steps"})->value(), "100");
  EXPECT_EQ(lookup(root, {"stages", "0", "steps"})->value(), "10");
  EXPECT_EQ(lookup(root, {"run", "name"})->value(), "other");
  EXPECT_EQ(lookup(root, {"data", "batch_size"})->loc().origin, "override 'data.batch_size=32'");
}

TEST(Overrides, ValuesAreYamlFlowCollections) {
  Node root = tree();
  EXPECT_EQ(apply(root, {"data.manifests=[{path: b.jsonl}, {path: c.jsonl, weight: 2}]"}), "");
  const Node* m = lookup(root, {"data", "manifests"});
  ASSERT_TRUE(m && m->is_list());
  ASSERT_EQ(m->items().size(), 2u);
  EXPECT_EQ(lookup(root, {"data", "manifests", "1", "weight"})->value(), "2");
}

TEST(Overrides, SetOnAnAbsentKeyTheSchemaDeclaresCreatesIt) {
  Node root = tree();
  EXPECT_EQ(apply(root, {"run.seed=5", "model.core.experts=16"}), "");
  EXPECT_EQ(lookup(root, {"run", "seed"})->value(), "5");
  EXPECT_EQ(lookup(root, {"model", "core", "experts"})->value(), "16");
}

TEST(Overrides, SetOnAnUnknownKeySuggestsAndPointsToPlus) {
  Node root = tree();
  const std::string errors = apply(root, {"data.batch_sise=4"});
  EXPECT_EQ(errors,
            "override 'data.batch_sise=4': 'data.batch_sise' is not in the recipe (did you mean "
            "'batch_size'?); use '+data.batch_sise=...' to add a new key\n");
}

TEST(Overrides, PlusAddsAndRefusesExistingKeys) {
  Node root = tree();
  EXPECT_EQ(apply(root, {"+modalities.image.options.channels=1", "+tasks.vqa.weights={image: 1}"}),
            "");
  EXPECT_EQ(lookup(root, {"modalities", "image", "options", "channels"})->value(), "1");
  EXPECT_EQ(lookup(root, {"tasks", "vqa", "weights", "image"})->value(), "1");
  EXPECT_EQ(apply(root, {"+run.name=x"}),
            "override '+run.name=x': 'run.name' is already in the recipe; use 'run.name=...' "
            "to change it\n");
}

TEST(Overrides, PlusAppendsToAListAtItsEnd) {
  Node root = tree();
  EXPECT_EQ(apply(root, {"+stages.2={name: s2, steps: 5}"}), "");
  EXPECT_EQ(lookup(root, {"stages", "2", "name"})->value(), "s2");
  EXPECT_NE(apply(root, {"+stages.7.name=x"}).find("index out of range"), std::string::npos);
}

TEST(Overrides, PluginOptionsNeedPlusToAddKeys) {
  Node root = tree();
  // Plugin options are free-form for the engine schema: a plain set cannot create them.
  EXPECT_NE(apply(root, {"modalities.image.options.chanels=1"}).find("is not in the recipe"),
            std::string::npos);
  EXPECT_EQ(apply(root, {"modalities.image.options.size=32"}), "");
}

TEST(Overrides, TildeRemoves) {
  Node root = tree();
  EXPECT_EQ(apply(root, {"~run.name", "~stages.0"}), "");
  EXPECT_EQ(lookup(root, {"run", "name"}), nullptr);
  ASSERT_EQ(lookup(root, {"stages"})->items().size(), 1u);
  EXPECT_EQ(lookup(root, {"stages", "0", "name"})->value(), "s1");
  EXPECT_EQ(apply(root, {"~run.nmae"}),
            "override '~run.nmae': cannot remove 'run.nmae': not in the recipe (did you mean "
            "'name'?)\n");
}

TEST(Overrides, EveryBadOverrideIsReported) {
  Node root = tree();
  const std::string errors =
      apply(root, {"nonsense", "run.name=[unclosed", "a..b=1", "stages.9.steps=1"});
  EXPECT_NE(errors.find("override 'nonsense': expected key=value, +key=value or ~key"),
            std::string::npos);
  EXPECT_NE(errors.find("override 'run.name=[unclosed': value is not valid YAML"),
            std::string::npos);
  EXPECT_NE(errors.find("override 'a..b=1': empty key segment"), std::string::npos);
  EXPECT_NE(errors.find("override 'stages.9.steps=1'"), std::string::npos);
  EXPECT_NE(errors.find("4 errors"), std::string::npos) << errors;
}

}  // namespace
}  // namespace chorus::recipe
