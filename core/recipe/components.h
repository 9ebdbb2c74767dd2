// Components: everything a recipe instantiates before its first step — the plugins with their
// decoders and encoders, the AlignModel, the class prompts and the data setup. `chorus train`,
// `chorus eval`, `chorus embed` and `chorus recipe check` build them the same way.
//
// Also the bridge from core/plugin's Registry to the recipe engine's PluginCatalog, so recipe
// validation checks plugin names and options against the plugins that are really there.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/plugin/registry.h"
#include "core/recipe/align_model.h"
#include "core/recipe/class_prompts.h"
#include "core/recipe/config.h"
#include "core/recipe/data_setup.h"
#include "core/recipe/objective.h"
#include "core/recipe/recipe.h"

namespace chorus::recipe {

struct Components {
  std::shared_ptr<plugin::Registry> registry;
  std::map<std::string, std::shared_ptr<const plugin::Plugin>> plugins;  // modality -> plugin
  std::shared_ptr<AlignModel> model;
  std::optional<ClassPrompts> prompts;
  PromptEncoder prompt_encoder;  // empty decoder when the recipe has no text modality
  std::unique_ptr<DataSetup> data;

  // "image" -> "image 0.1.0 /path/libchorus_image.so", for command.txt.
  std::map<std::string, std::string> plugin_versions() const;
  // Every pair any stage trains, after anchors.
  std::vector<ModalityPair> trained_pairs(const RecipeConfig& config) const;
  const ClassPrompts* prompts_or_null() const { return prompts ? &*prompts : nullptr; }
};

// Discovers plugins (recipe plugin_paths first), makes every modality's decoder and encoder
// (encoder seeds derived from run.seed and the modality name) and the model.
absl::StatusOr<std::unique_ptr<Components>> build_components(const RecipeConfig& config);

// A PluginCatalog over a registry discovered along `plugin_paths` (for LoadOptions::plugins).
PluginCatalogFactory registry_catalog_factory();

// Installs registry_catalog_factory() and an instantiate hook (build_components) into
// recipe_hooks(), so `chorus recipe check` validates plugins and builds every component.
void install_recipe_hooks();

}  // namespace chorus::recipe
