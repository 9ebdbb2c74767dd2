// Registry: every plugin found along the search path, and every file refused with its reason.
//
//   plugin::Registry registry;
//   registry.Discover(recipe_plugin_paths);          // never fails: problems become rejections
//   ASSIGN_OR_RETURN(auto image, registry.Find("image"));  // fails loudly, listing what exists
//   auto decoder = image->MakeDecoder(options_json, recipe_dir);
//
// Plugins and the objects they make may outlive the Registry. A Registry is meant to be filled
// once at start-up from one thread; the loading itself is serialized process-wide.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/plugin/plugin.h"
#include "core/plugin/search_path.h"
#include "nlohmann/json.hpp"

namespace chorus::plugin {

struct Rejection {
  std::string path;
  std::string reason;  // "ABI mismatch: ...", "missing entry point ...", "dlopen failed: ..."
};

class Registry {
 public:
  // Tries every library along PluginSearchPath(extra_paths, options): files named in the list
  // whatever their name, and every *.so file in folders. A plugin name already taken by an
  // earlier location is rejected as a duplicate. May be called again with more paths; files
  // already tried are skipped.
  void Discover(const std::vector<std::string>& extra_paths = {},
                const SearchOptions& options = {});

  // Tries one file, recording the outcome like Discover does. Returns the plugin, or the
  // rejection reason as the status message.
  absl::StatusOr<std::shared_ptr<const Plugin>> LoadFile(const std::string& path);

  const std::vector<std::shared_ptr<const Plugin>>& plugins() const { return plugins_; }
  const std::vector<Rejection>& rejected() const { return rejected_; }
  const std::vector<SearchLocation>& searched() const { return searched_; }

  // The plugin called `name`, or NotFound naming the closest name, the loaded plugins, the
  // rejected files with their reasons and the folders searched.
  absl::StatusOr<std::shared_ptr<const Plugin>> Find(std::string_view name) const;

  // {"plugins": [...], "rejected": [{"path", "reason"}], "searched": [{"path", "source"}]}
  nlohmann::json ToJson() const;

 private:
  void TryLocation(const SearchLocation& location);
  absl::StatusOr<std::shared_ptr<const Plugin>> TryFile(const std::string& path);

  std::vector<std::shared_ptr<const Plugin>> plugins_;
  std::vector<Rejection> rejected_;
  std::vector<SearchLocation> searched_;
  std::vector<std::string> tried_;  // canonical paths already loaded or rejected
};

}  // namespace chorus::plugin
