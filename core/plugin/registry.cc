#include "core/plugin/registry.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_join.h"
#include "core/plugin/suggest.h"

namespace chorus::plugin {
namespace {

namespace fs = std::filesystem;

// Plugin files in a folder: "libfoo.so", "foo.so", and versioned "libfoo.so.1".
bool LooksLikeLibrary(const fs::path& p) {
  const std::string name = p.filename().string();
  return (name.size() > 3 && name.compare(name.size() - 3, 3, ".so") == 0) ||
         name.find(".so.") != std::string::npos;
}

}  // namespace

void Registry::Discover(const std::vector<std::string>& extra_paths, const SearchOptions& options) {
  for (const SearchLocation& location : PluginSearchPath(extra_paths, options)) {
    const bool known =
        std::any_of(searched_.begin(), searched_.end(),
                    [&](const SearchLocation& s) { return s.path == location.path; });
    if (known) continue;
    searched_.push_back(location);
    TryLocation(location);
  }
}

void Registry::TryLocation(const SearchLocation& location) {
  std::error_code ec;
  const fs::file_status status = fs::status(location.path, ec);
  if (ec || !fs::exists(status)) return;  // a default folder that does not exist is normal
  if (fs::is_regular_file(status)) {
    (void)TryFile(location.path);
    return;
  }
  if (!fs::is_directory(status)) {
    rejected_.push_back({location.path, "not a file or folder"});
    return;
  }
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(location.path, ec)) {
    if (LooksLikeLibrary(entry.path()) && entry.is_regular_file(ec)) files.push_back(entry.path());
  }
  if (ec) {
    rejected_.push_back({location.path, "cannot list folder: " + ec.message()});
    return;
  }
  std::sort(files.begin(), files.end());  // deterministic order (and duplicate winner)
  for (const fs::path& file : files) (void)TryFile(file.string());
}

absl::StatusOr<std::shared_ptr<const Plugin>> Registry::LoadFile(const std::string& path) {
  return TryFile(path);
}

absl::StatusOr<std::shared_ptr<const Plugin>> Registry::TryFile(const std::string& path) {
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(fs::absolute(path), ec);
  const std::string key = ec ? path : canonical.string();
  for (const auto& plugin : plugins_) {
    if (plugin->info().path == key) return plugin;  // the same file reached twice
  }
  for (const Rejection& r : rejected_) {
    if (r.path == key) return absl::FailedPreconditionError(key + ": " + r.reason);
  }
  absl::StatusOr<std::shared_ptr<const Plugin>> loaded = Plugin::Load(key);
  if (!loaded.ok()) {
    rejected_.push_back({key, std::string(loaded.status().message())});
    return absl::Status(loaded.status().code(), key + ": " + rejected_.back().reason);
  }
  for (const auto& plugin : plugins_) {
    if (plugin->name() == (*loaded)->name()) {
      rejected_.push_back({key, "duplicate plugin name '" + plugin->name() +
                                    "': already loaded from " + plugin->info().path});
      return absl::AlreadyExistsError(key + ": " + rejected_.back().reason);
    }
  }
  plugins_.push_back(*loaded);
  return *loaded;
}

absl::StatusOr<std::shared_ptr<const Plugin>> Registry::Find(std::string_view name) const {
  std::vector<std::string> names;
  for (const auto& plugin : plugins_) {
    if (plugin->name() == name) return plugin;
    names.push_back(plugin->name());
  }
  std::string message = "plugin '" + std::string(name) + "' not found" + DidYouMean(name, names);
  message += names.empty() ? "; no plugins loaded" : "; loaded: " + absl::StrJoin(names, ", ");
  if (!rejected_.empty()) {
    std::vector<std::string> rejections;
    for (const Rejection& r : rejected_) rejections.push_back(r.path + " (" + r.reason + ")");
    message += "; rejected: " + absl::StrJoin(rejections, ", ");
  }
  std::vector<std::string> folders;
  for (const SearchLocation& s : searched_) folders.push_back(s.path);
  message +=
      "; searched: " + (folders.empty() ? std::string("nothing") : absl::StrJoin(folders, ", "));
  message += " (add the plugin's folder to the recipe's plugin_paths or to CHORUS_PLUGIN_PATH)";
  return absl::NotFoundError(message);
}

nlohmann::json Registry::ToJson() const {
  nlohmann::json j = {{"plugins", nlohmann::json::array()},
                      {"rejected", nlohmann::json::array()},
                      {"searched", nlohmann::json::array()}};
  for (const auto& plugin : plugins_) j["plugins"].push_back(PluginInfoToJson(plugin->info()));
  for (const Rejection& r : rejected_)
    j["rejected"].push_back({{"path", r.path}, {"reason", r.reason}});
  for (const SearchLocation& s : searched_) {
    j["searched"].push_back({{"path", s.path}, {"source", s.source}});
  }
  return j;
}

}  // namespace chorus::plugin
