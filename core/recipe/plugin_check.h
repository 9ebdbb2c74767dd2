// The recipe side of plugin validation: `modalities.<name>.plugin` must name a plugin the host
// knows, and `modalities.<name>.options` must satisfy that plugin's OptionSchema.
//
// The recipe engine does not load plugins itself. Whoever does (the stage runner, `chorus recipe
// check`) implements PluginCatalog over core/plugin's Registry, typically:
//
//   names()          -> every loaded plugin's name
//   check_options()  -> plugin::CheckOptions(found->schema(), options, base_dir, resolved)
//
// and hands it to the loader (LoadOptions::plugins in recipe.h). Problems come back located at
// the option's own line in the recipe; the resolved options (defaults filled in, paths absolute)
// replace what the recipe wrote, in the tree and in ModalityConfig::options.
#pragma once

#include <string>
#include <vector>

#include "core/recipe/diagnostics.h"
#include "core/recipe/node.h"
#include "nlohmann/json.hpp"

namespace chorus::recipe {

struct OptionProblem {
  std::string option;   // the option's name; "" for the options object as a whole
  std::string message;  // what is wrong and what was expected
};

class PluginCatalog {
 public:
  virtual ~PluginCatalog() = default;
  // Every plugin name the host knows (for "not found" messages and suggestions).
  virtual std::vector<std::string> names() const = 0;
  // Checks `options` (a JSON object) for plugin `name`, which names() lists. On success fills
  // `resolved` with the complete options. `base_dir` is the directory of the recipe file that
  // wrote them, for relative paths.
  virtual std::vector<OptionProblem> check_options(const std::string& name,
                                                   const nlohmann::json& options,
                                                   const std::string& base_dir,
                                                   nlohmann::json* resolved) const = 0;
};

// Checks every modality's plugin and options; replaces options by the resolved ones.
void check_plugins(Node& root, const PluginCatalog& catalog, Diagnostics& diags);

// JSON -> recipe tree (every node located at `loc`); strings that would read as another type
// are quoted so that they stay strings.
Node from_json(const nlohmann::json& j, const Location& loc);

}  // namespace chorus::recipe
