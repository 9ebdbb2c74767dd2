// Process-wide hooks that let layers above core/recipe plug into recipe checking, so that
// `chorus recipe check` and `chorus train` check a recipe the same way:
//
//   recipe::recipe_hooks().plugins = [](const std::vector<std::string>& plugin_paths) {
//     ... discover plugins (core/plugin Registry), return a PluginCatalog over them ...
//   };
//   recipe::recipe_hooks().instantiate = [](const recipe::Recipe& r) -> absl::Status {
//     ... build decoders, encoders, the core model, data loaders and losses; train nothing ...
//   };
//
// Set them once at start-up (before any thread reads them).
#pragma once

#include <functional>

#include "absl/status/status.h"
#include "core/recipe/recipe.h"

namespace chorus::recipe {

struct RecipeHooks {
  PluginCatalogFactory plugins;                            // unset: plugins are not checked
  std::function<absl::Status(const Recipe&)> instantiate;  // unset: nothing is instantiated
};

RecipeHooks& recipe_hooks();

}  // namespace chorus::recipe
