// Where plugins are looked for, in priority order (first found wins a name):
//   1. paths given by the caller (a recipe's plugin_paths, `--path` on the command line);
//   2. CHORUS_PLUGIN_PATH, colon-separated folders or files;
//   3. beside the executable: <exe dir>/../lib/chorus/plugins (via /proc/self/exe), which is
//      where the build tree and an installed prefix both put the shipped plugins; also the
//      same folder beside libchorus_core.so, for programs that link the core from elsewhere;
//   4. the configured install prefix: <CMAKE_INSTALL_PREFIX>/lib/chorus/plugins.
#pragma once

#include <string>
#include <vector>

namespace chorus::plugin {

struct SearchLocation {
  std::string path;  // a folder (every *.so inside is tried) or one file
  std::string
      source;  // "argument", "CHORUS_PLUGIN_PATH", "executable", "core library", "install prefix"
};

struct SearchOptions {
  bool environment = true;   // read CHORUS_PLUGIN_PATH
  bool default_dirs = true;  // the executable, core library and install prefix folders
};

// The locations in priority order, duplicates (same absolute path) removed. Locations that do
// not exist are kept: `chorus plugins list` shows where it looked.
std::vector<SearchLocation> PluginSearchPath(const std::vector<std::string>& extra_paths,
                                             const SearchOptions& options = {});

// Splits a colon-separated list, dropping empty entries.
std::vector<std::string> SplitPathList(const std::string& list);

}  // namespace chorus::plugin
