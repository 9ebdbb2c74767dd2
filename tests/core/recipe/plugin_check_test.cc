// Plugin names and options through a PluginCatalog: "not found" at the modality's line, option
// problems at the option's line, resolved options written back.
#include "core/recipe/plugin_check.h"

#include <gtest/gtest.h>

#include "core/recipe/recipe.h"
#include "tests/core/recipe/recipe_testing.h"

namespace chorus::recipe {
namespace {

const char* kRecipe =
    "modalities:\n"
    "  image:\n"
    "    plugin: image\n"
    "    options:\n"
    "      size: 0\n"
    "      colour: true\n"
    "  text: {plugin: txt}\n"
    "data: {manifests: [{path: t.jsonl}]}\n"
    "stages:\n"
    "  - {name: s, kind: instance, steps: 1, optimizer: {lr: 1}, pairs: [[image, text]]}\n";

LoadOptions options() {
  LoadOptions o = testing::with_fake_plugins();
  o.check_files = false;
  return o;
}

TEST(PluginCheck, EveryProblemAtItsLine) {
  const LoadResult r = load_recipe_text_diagnostics(kRecipe, "p.yaml", options());
  EXPECT_FALSE(r.recipe);
  EXPECT_EQ(r.diagnostics.str(),
            "p.yaml:5:7: modalities.image.options.size: plugin 'image': option 'size' expects an "
            "integer >= 1, got 0\n"
            "p.yaml:6:7: modalities.image.options.colour: plugin 'image': unknown option "
            "'colour'\n"
            "p.yaml:7:18: modalities.text.plugin: plugin 'txt' not found (did you mean 'text'?); "
            "available: image, text, audio\n"
            "3 errors\n");
}

TEST(PluginCheck, ResolvedOptionsReplaceTheWrittenOnes) {
  std::string text = kRecipe;
  text.replace(text.find("      size: 0\n      colour: true\n"), 32, "      {}\n");
  text.replace(text.find("txt"), 3, "text");
  auto r = load_recipe_text(text, "p.yaml", options());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->config.modality("image")->options, (nlohmann::json{{"size", 32}}));
  EXPECT_NE(r->resolved_yaml().find("size: 32"), std::string::npos);
}

TEST(PluginCheck, CatalogFailureIsReported) {
  LoadOptions o = options();
  o.plugins =
      [](const std::vector<std::string>&) -> absl::StatusOr<std::shared_ptr<const PluginCatalog>> {
    return absl::NotFoundError("no plugin directory");
  };
  std::string text = kRecipe;
  auto r = load_recipe_text(text, "p.yaml", o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("plugins: no plugin directory"), std::string::npos);
}

TEST(PluginCheck, FromJsonKeepsStringsStrings) {
  const Node n =
      from_json(nlohmann::json{{"a", "12"}, {"b", 12}, {"c", "true"}, {"d", "x"}}, Location{});
  EXPECT_TRUE(n.find("a")->quoted());
  EXPECT_FALSE(n.find("b")->quoted());
  EXPECT_TRUE(n.find("c")->quoted());
  EXPECT_FALSE(n.find("d")->quoted());
}

}  // namespace
}  // namespace chorus::recipe
