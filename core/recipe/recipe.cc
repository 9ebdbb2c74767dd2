#include "core/recipe/recipe.h"

#include <filesystem>
#include <random>

#include "core/recipe/compose.h"
#include "core/recipe/config_build.h"
#include "core/recipe/cross_checks.h"
#include "core/recipe/emit.h"
#include "core/recipe/interpolate.h"
#include "core/recipe/overrides.h"
#include "core/recipe/schema.h"
#include "core/recipe/validate.h"
#include "core/recipe/yaml_reader.h"

namespace chorus::recipe {
namespace {

uint64_t fresh_seed() {
  std::random_device device;
  // Seeds stay below 2^53 so that JSON tools reading metrics or state files keep them exact.
  return ((static_cast<uint64_t>(device()) << 32) | device()) & ((uint64_t{1} << 53) - 1);
}

// Run name and seed: derived values that are written into the resolved tree, so that the
// recorded recipe reproduces the run.
void fill_run(Node& root, const std::string& file, const LoadOptions& options) {
  Node* run = root.find("run");
  if (run == nullptr || !run->is_map()) return;
  if (run->find("name") == nullptr) {
    std::string stem = std::filesystem::path(file).stem().string();
    if (stem.empty()) stem = "run";
    run->set("name", Node::scalar(stem, Location{"", 0, 0, "recipe file name"}, true));
  }
  if (run->find("seed") == nullptr) {
    const uint64_t seed = options.seed ? *options.seed : fresh_seed();
    run->set("seed", Node::scalar(std::to_string(seed), Location{"", 0, 0, "generated seed"}));
  }
}

void finish(LoadResult& result, Node composed, const std::string& file,
            const LoadOptions& options) {
  Diagnostics& diags = result.diagnostics;
  const Field& schema = engine_schema();
  apply_overrides(composed, options.overrides, schema, diags);
  if (!diags.empty()) return;
  Recipe recipe;
  recipe.file = file;
  recipe.raw = composed;
  interpolate(composed, diags);
  if (!diags.empty()) return;

  ValidateOptions validate_options;
  validate_options.check_files = options.check_files;
  validate(composed, schema, validate_options, diags);
  cross_check(composed, validate_options, diags);
  if (diags.empty() && options.plugins) {
    std::vector<std::string> paths;
    if (const Node* p = composed.find("plugin_paths"); p && p->is_list()) {
      for (const Node& item : p->items()) paths.push_back(item.value());
    }
    auto catalog = options.plugins(paths);
    if (!catalog.ok()) {
      const Node* p = composed.find("plugin_paths");
      diags.add(p ? p->loc() : composed.loc(), "plugin_paths",
                "plugins: " + std::string(catalog.status().message()));
    } else if (*catalog) {
      check_plugins(composed, **catalog, diags);
      recipe.plugins_checked = true;
    }
  }
  if (!diags.empty()) return;
  fill_run(composed, file, options);
  recipe.config = build_config(composed);
  recipe.config.run.seed_generated =
      composed.find("run")->find("seed")->loc().origin == "generated seed";
  recipe.resolved = std::move(composed);
  result.recipe = std::move(recipe);
}

absl::StatusOr<Recipe> to_status(LoadResult result) {
  if (!result.recipe) {
    if (result.diagnostics.empty()) return absl::InternalError("recipe load failed");
    return result.diagnostics.status();
  }
  return std::move(*result.recipe);
}

}  // namespace

std::string Recipe::raw_yaml() const { return to_yaml(raw); }
std::string Recipe::resolved_yaml() const { return to_yaml(resolved); }

LoadResult load_recipe_diagnostics(const std::string& path, const LoadOptions& options) {
  LoadResult result;
  auto composed = compose_file(path, result.diagnostics);
  if (composed) finish(result, std::move(*composed), path, options);
  return result;
}

LoadResult load_recipe_text_diagnostics(std::string_view text, const std::string& name,
                                        const LoadOptions& options) {
  LoadResult result;
  auto root = parse_yaml(text, name, result.diagnostics);
  if (!root) return result;
  auto composed = compose(std::move(*root), name, result.diagnostics);
  if (composed) finish(result, std::move(*composed), name, options);
  return result;
}

absl::StatusOr<Node> compose_recipe(const std::string& path,
                                    const std::vector<std::string>& overrides) {
  Diagnostics diags;
  auto composed = compose_file(path, diags);
  if (composed) apply_overrides(*composed, overrides, engine_schema(), diags);
  if (!diags.empty()) return diags.status();
  return std::move(*composed);
}

absl::StatusOr<Recipe> load_recipe(const std::string& path, const LoadOptions& options) {
  return to_status(load_recipe_diagnostics(path, options));
}

absl::StatusOr<Recipe> load_recipe_text(std::string_view text, const std::string& name,
                                        const LoadOptions& options) {
  return to_status(load_recipe_text_diagnostics(text, name, options));
}

}  // namespace chorus::recipe
