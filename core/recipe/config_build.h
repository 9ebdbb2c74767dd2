// Validated tree -> RecipeConfig, and recipe values -> JSON (plugin options).
#pragma once

#include "core/recipe/config.h"
#include "core/recipe/node.h"
#include "nlohmann/json.hpp"

namespace chorus::recipe {

// `root` must have passed validation against engine_schema() and the cross-section checks.
RecipeConfig build_config(const Node& root);

// Plain scalars become bool/int/float/null by their YAML reading, quoted ones strings.
nlohmann::json to_json(const Node& n);

}  // namespace chorus::recipe
