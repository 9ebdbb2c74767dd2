// Helpers for the recipe tests: fixture paths, a fake plugin catalog (the plugin host is not
// needed to test the recipe side of plugin checks), and loading with diagnostics.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/recipe/recipe.h"

namespace chorus::recipe::testing {

inline std::string fixture(const std::string& relative) {
  return std::string(CHORUS_FIXTURE_DIR) + "/recipes/" + relative;
}

// Plugins image, text and audio. image takes {size: int >= 1, default 32}; audio takes
// {n_mels: int, default 80} (as the real audio plugin); text takes no options.
class FakeCatalog : public PluginCatalog {
 public:
  std::vector<std::string> names() const override { return {"image", "text", "audio"}; }
  std::vector<OptionProblem> check_options(const std::string& name, const nlohmann::json& options,
                                           const std::string& base_dir,
                                           nlohmann::json* resolved) const override {
    std::map<std::string, int> defaults;
    if (name == "image") defaults["size"] = 32;
    if (name == "audio") defaults["n_mels"] = 80;
    std::vector<OptionProblem> problems;
    *resolved = nlohmann::json::object();
    for (const auto& [key, value] : defaults) (*resolved)[key] = value;
    for (const auto& [key, value] : options.items()) {
      if (!defaults.count(key)) {
        problems.push_back({key, "unknown option '" + key + "'"});
      } else if (!value.is_number_integer() || value.get<int>() < 1) {
        problems.push_back(
            {key, "option '" + key + "' expects an integer >= 1, got " + value.dump()});
      } else {
        (*resolved)[key] = value;
      }
    }
    return problems;
  }
};

inline LoadOptions with_fake_plugins(LoadOptions options = {}) {
  options.plugins =
      [](const std::vector<std::string>&) -> absl::StatusOr<std::shared_ptr<const PluginCatalog>> {
    return std::make_shared<FakeCatalog>();
  };
  return options;
}

// Messages of a failed load, one string each ("file:line:col: path: message").
inline std::vector<std::string> errors_of(const LoadResult& result) {
  std::vector<std::string> out;
  for (const Diagnostic& d : result.diagnostics.list()) out.push_back(d.str());
  return out;
}

inline std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

}  // namespace chorus::recipe::testing
