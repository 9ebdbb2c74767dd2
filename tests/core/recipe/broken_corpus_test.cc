// The broken-recipe corpus (tests/fixtures/recipes/broken): each file carries one problem and
// must produce exactly one message naming its file, line and what is wrong.
#include <gtest/gtest.h>

#include "core/recipe/recipe.h"
#include "tests/core/recipe/recipe_testing.h"

namespace chorus::recipe {
namespace {

using testing::fixture;

struct Case {
  const char* file;
  int line;
  const char* text;              // a substring of the one message
  const char* loaded = nullptr;  // the file loaded, when not `file` itself
};

class BrokenCorpus : public ::testing::TestWithParam<Case> {};

TEST_P(BrokenCorpus, OneClearMessageWithFileAndLine) {
  const Case& c = GetParam();
  const LoadResult result =
      load_recipe_diagnostics(fixture(std::string("broken/") + (c.loaded ? c.loaded : c.file)),
                              testing::with_fake_plugins());
  EXPECT_FALSE(result.recipe);
  ASSERT_EQ(result.diagnostics.size(), 1u) << result.diagnostics.str();
  const Diagnostic& d = result.diagnostics.list()[0];
  const std::string message = d.str();
  EXPECT_NE(d.loc.file.find(c.file), std::string::npos) << message;
  EXPECT_EQ(d.loc.line, c.line) << message;
  EXPECT_NE(message.find(c.text), std::string::npos) << message;
  // The message starts with "file:line:" so editors can jump to it.
  EXPECT_EQ(message.rfind(d.loc.file + ":" + std::to_string(c.line) + ":", 0), 0u) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Recipes, BrokenCorpus,
    ::testing::Values(
        Case{"syntax_error.yaml", 7, "YAML syntax error"},
        Case{"tab_indent.yaml", 5, "tab character in indentation; YAML indents with spaces only"},
        Case{"unknown_key.yaml", 4,
             "model.shared_widht: unknown key 'shared_widht' (did you mean 'shared_width'?)"},
        Case{"wrong_type.yaml", 4, "data.batch_size: expected int, got 'lots'"},
        Case{"missing_plugin.yaml", 5,
             "modalities.audio.plugin: plugin 'audoi' not found (did you mean 'audio'?); "
             "available: image, text, audio"},
        Case{"missing_manifest.yaml", 5, "data.manifests.0.path: file not found: "},
        Case{"negative_lr.yaml", 8, "stages.0.optimizer.lr: must be > 0, got -0.001"},
        Case{"duplicate_stage.yaml", 9,
             "stages.1.name: duplicate stage name 'align' (first used at line 4)"},
        Case{"defaults_cycle_b.yaml", 4, "defaults cycle: ", "defaults_cycle_a.yaml"},
        Case{"task_stage_without_task.yaml", 7,
             "stages.0.task: missing required key 'task': a task stage names an entry of "
             "`tasks`"},
        Case{"task_unknown.yaml", 9,
             "stages.0.task: unknown task 'clasify' (did you mean 'classify'?); the recipe's "
             "tasks are: classify"},
        Case{"task_learned_contrastive.yaml", 11,
             "stages.0.task: task 'vqa' has mode: learned, which a contrastive stage cannot use "
             "(a learned gate needs fused inputs)"}),
    [](const ::testing::TestParamInfo<Case>& info) {
      std::string name = info.param.file;
      return name.substr(0, name.find('.'));
    });

// The cycle message shows the whole chain, back to where it started.
TEST(BrokenCorpusCycle, ShowsTheChain) {
  const LoadResult result = load_recipe_diagnostics(fixture("broken/defaults_cycle_a.yaml"));
  ASSERT_EQ(result.diagnostics.size(), 1u);
  const std::string& m = result.diagnostics.list()[0].message;
  const std::string a = fixture("broken/defaults_cycle_a.yaml");
  const std::string b = fixture("broken/defaults_cycle_b.yaml");
  EXPECT_EQ(m, "defaults cycle: " + a + " -> " + b + " -> " + a);
}

}  // namespace
}  // namespace chorus::recipe
