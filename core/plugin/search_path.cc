#include "core/plugin/search_path.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#ifndef CHORUS_INSTALL_PREFIX
#define CHORUS_INSTALL_PREFIX "/usr/local"
#endif

namespace chorus::plugin {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPluginSubdir = "lib/chorus/plugins";

std::string Normalise(const fs::path& p) {
  std::error_code ec;
  fs::path absolute = fs::weakly_canonical(fs::absolute(p), ec);
  if (ec) absolute = fs::absolute(p).lexically_normal();
  return absolute.string();
}

// The folder of libchorus_core.so itself, found from the address of a function inside it.
fs::path CoreLibraryDir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<const void*>(&SplitPathList), &info) == 0 ||
      info.dli_fname == nullptr) {
    return {};
  }
  return fs::path(info.dli_fname).parent_path();
}

}  // namespace

std::vector<std::string> SplitPathList(const std::string& list) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t end = std::min(list.find(':', start), list.size());
    if (end > start) parts.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::vector<SearchLocation> PluginSearchPath(const std::vector<std::string>& extra_paths,
                                             const SearchOptions& options) {
  std::vector<SearchLocation> locations;
  std::set<std::string> seen;
  auto add = [&](const fs::path& p, const char* source) {
    if (p.empty()) return;
    std::string normal = Normalise(p);
    if (seen.insert(normal).second) locations.push_back({std::move(normal), source});
  };
  for (const std::string& p : extra_paths) add(p, "argument");
  if (options.environment) {
    if (const char* env = std::getenv("CHORUS_PLUGIN_PATH")) {
      for (const std::string& p : SplitPathList(env)) add(p, "CHORUS_PLUGIN_PATH");
    }
  }
  if (options.default_dirs) {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) add(exe.parent_path().parent_path() / kPluginSubdir, "executable");
    const fs::path core = CoreLibraryDir();
    if (!core.empty()) add(core / "chorus/plugins", "core library");
    add(fs::path(CHORUS_INSTALL_PREFIX) / kPluginSubdir, "install prefix");
  }
  return locations;
}

}  // namespace chorus::plugin
