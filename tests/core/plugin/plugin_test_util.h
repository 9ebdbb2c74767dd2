// Helpers for the plugin host tests: where the helper plugins are built, and temporary folders.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#ifndef CHORUS_TEST_PLUGIN_DIR
#error "CHORUS_TEST_PLUGIN_DIR must be defined (tests/plugins/CMakeLists.txt)"
#endif

namespace chorus::plugin {

// <build>/tests/plugins/lib<target>.so
inline std::filesystem::path TestPlugin(const std::string& target) {
  return std::filesystem::path(CHORUS_TEST_PLUGIN_DIR) / ("lib" + target + ".so");
}

// A fresh folder, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "chorus-plugin-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace chorus::plugin
