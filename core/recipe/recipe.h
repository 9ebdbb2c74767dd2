// Loading a recipe: YAML file + command-line overrides -> checked tree -> RecipeConfig.
//
//   recipe::LoadOptions options;
//   options.overrides = {"stages.0.steps=100", "run.device=cuda:0"};
//   options.plugins = [&](const std::vector<std::string>& plugin_paths) { ... };  // optional
//   absl::StatusOr<recipe::Recipe> r = recipe::load_recipe("recipes/quickstart.yaml", options);
//   if (!r.ok()) { std::cerr << r.status().message(); ... }   // every problem, one per line
//   const recipe::RecipeConfig& config = r->config;
//   write(run_dir / "recipe.resolved.yaml", r->resolved_yaml());
//
// Steps, in order: read the file and its `defaults:` (compose.h), apply overrides
// (overrides.h), interpolate ${...} (interpolate.h), validate against engine_schema() filling
// defaults and making paths absolute (validate.h), cross-section checks (cross_checks.h), plugin
// names and options through the PluginCatalog (plugin_check.h), a seed when none was given, and
// the typed config (config_build.h). A step that fails stops the ones that depend on it; within
// validation every problem is reported.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/recipe/config.h"
#include "core/recipe/diagnostics.h"
#include "core/recipe/node.h"
#include "core/recipe/plugin_check.h"

namespace chorus::recipe {

// Makes the plugin catalog once the recipe's plugin_paths (absolute) are known.
using PluginCatalogFactory = std::function<absl::StatusOr<std::shared_ptr<const PluginCatalog>>(
    const std::vector<std::string>& plugin_paths)>;

struct LoadOptions {
  std::vector<std::string> overrides;
  // Unset: plugin names and options are not checked (ModalityConfig::options as written).
  PluginCatalogFactory plugins;
  // Check that manifests, classes files, plugin paths and load_from exist.
  bool check_files = true;
  // Seed recorded when the recipe has none; unset: drawn from std::random_device.
  std::optional<uint64_t> seed;
};

struct Recipe {
  std::string file;  // as given
  Node raw;          // defaults merged and overrides applied; ${...} as written
  Node resolved;     // interpolated, validated, defaults filled, paths absolute, seed set
  RecipeConfig config;
  bool plugins_checked = false;  // a catalog checked plugin names and options

  std::string raw_yaml() const;
  std::string resolved_yaml() const;
};

// Loads a recipe file. On failure the status message lists every problem, one per line, each
// "file:line:col: key.path: message".
absl::StatusOr<Recipe> load_recipe(const std::string& path, const LoadOptions& options = {});

// Same for recipe text held in memory (named `name` in messages; defaults resolve against the
// working directory).
absl::StatusOr<Recipe> load_recipe_text(std::string_view text, const std::string& name,
                                        const LoadOptions& options = {});

// Only the first two steps (defaults and overrides): the recipe as written, before
// interpolation and validation (`chorus recipe print` without --resolve).
absl::StatusOr<Node> compose_recipe(const std::string& path,
                                    const std::vector<std::string>& overrides);

// The diagnostics behind a failed load, for callers that want them one by one (tests, editors).
struct LoadResult {
  std::optional<Recipe> recipe;
  Diagnostics diagnostics;
};
LoadResult load_recipe_diagnostics(const std::string& path, const LoadOptions& options = {});
LoadResult load_recipe_text_diagnostics(std::string_view text, const std::string& name,
                                        const LoadOptions& options = {});

}  // namespace chorus::recipe
