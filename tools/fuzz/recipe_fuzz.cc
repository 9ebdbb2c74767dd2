// libFuzzer target for the recipe loader: arbitrary text through parsing, defaults, overrides,
// interpolation, validation, plugin checks and the typed config. Must never crash, hang or
// leak; every rejection must come with at least one diagnostic.
//
// Input: recipe text, optionally followed by a line "%%" and one override per line. Properties
// checked beyond "no crash": a failed load explains itself, and a loaded recipe's resolved YAML
// loads again to the same YAML.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/recipe/recipe.h"

namespace {

using namespace chorus::recipe;

class Catalog : public PluginCatalog {
 public:
  std::vector<std::string> names() const override { return {"image", "text", "audio"}; }
  std::vector<OptionProblem> check_options(const std::string& name, const nlohmann::json& options,
                                           const std::string&,
                                           nlohmann::json* resolved) const override {
    if (!options.is_object()) return {{"", "options must be a mapping"}};
    *resolved = options;
    if (name == "image" && !resolved->contains("size")) (*resolved)["size"] = 32;
    return {};
  }
};

LoadOptions options(std::vector<std::string> overrides) {
  LoadOptions o;
  o.overrides = std::move(overrides);
  o.check_files = false;
  o.seed = 1;
  o.plugins =
      [](const std::vector<std::string>&) -> absl::StatusOr<std::shared_ptr<const PluginCatalog>> {
    return std::make_shared<Catalog>();
  };
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) return 0;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> overrides;
  const size_t split = input.find("\n%%\n");
  if (split != std::string_view::npos) {
    std::string_view rest = input.substr(split + 4);
    input = input.substr(0, split);
    while (!rest.empty() && overrides.size() < 16) {
      const size_t nl = rest.find('\n');
      overrides.emplace_back(rest.substr(0, nl));
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    }
  }
  // Relative `defaults:` resolve against the working directory: keep the fuzzer away from
  // whatever files lie there by naming the recipe under a directory that does not exist.
  const LoadResult result =
      load_recipe_text_diagnostics(input, "/nonexistent-fuzz/recipe.yaml", options(overrides));
  if (!result.recipe) {
    if (result.diagnostics.empty()) std::abort();  // a rejection without a reason
    (void)result.diagnostics.str();
    return 0;
  }
  const std::string resolved = result.recipe->resolved_yaml();
  const LoadResult again =
      load_recipe_text_diagnostics(resolved, "/nonexistent-fuzz/resolved.yaml", options({}));
  if (!again.recipe || again.recipe->resolved_yaml() != resolved) std::abort();
  return 0;
}
