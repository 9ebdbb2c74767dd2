// Opening one plugin file: dlopen through Boost.DLL, the entry point, the ABI check.
//
// This is the only code that touches a plugin library before it is known to be compatible.
// Its rule: read the descriptor's fixed ABI header (three integers) first, and call or read
// nothing else from a library built for another ABI major, a newer minor, or with a descriptor
// smaller than this ABI needs.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "chorus/plugin.h"

namespace chorus::plugin {

struct OpenedLibrary {
  std::string path;                    // canonical absolute path of the file
  std::shared_ptr<const void> handle;  // the library stays loaded while any copy lives
  const Descriptor* descriptor = nullptr;
};

// Opens `path` and checks its ABI. On failure the status message is the reason shown to users:
// "not a shared library ...", "dlopen failed: <loader message>", "missing entry point ...",
// "ABI mismatch: ...", "descriptor too small ...". Calls are serialized by a process-wide
// mutex (see library.cc).
absl::StatusOr<OpenedLibrary> OpenPluginLibrary(const std::filesystem::path& path);

}  // namespace chorus::plugin
