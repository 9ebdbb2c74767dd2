#include "core/plugin/library.h"

#include <dlfcn.h>

#include <cstring>
#include <fstream>
#include <mutex>

#include "boost/dll/shared_library.hpp"

namespace chorus::plugin {
namespace {

// Loading is serialized: a plugin's static initialisers and its entry point run while the
// library is opened, and plugins may assume no other plugin initialises at the same time;
// dlerror() is also only meaningful right after the call that failed.
std::mutex& LoadMutex() {
  static std::mutex mutex;
  return mutex;
}

// The size of a 1.0 descriptor. When a later minor appends fields, the host reads a new field
// only if the plugin's struct_size covers it, and a plugin must at least fill the 1.0 fields.
constexpr uint32_t kMinDescriptorSize = sizeof(Descriptor);

// dlopen would also refuse a file that is not ELF, but with a message about ELF headers that
// reads like a corrupt library; a non-library file in a plugin folder deserves a plainer one.
absl::Status CheckElfMagic(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot open file: " + std::string(std::strerror(errno)));
  char magic[4] = {};
  in.read(magic, 4);
  if (in.gcount() != 4 || std::memcmp(magic,
                                      "\x7f"
                                      "ELF",
                                      4) != 0) {
    return absl::InvalidArgumentError("not a shared library (no ELF header)");
  }
  return absl::OkStatus();
}

std::string AbiString(uint32_t major, uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

}  // namespace

absl::StatusOr<OpenedLibrary> OpenPluginLibrary(const std::filesystem::path& path) {
  std::error_code ec;
  const std::filesystem::path canonical = std::filesystem::canonical(path, ec);
  if (ec) return absl::NotFoundError("cannot read: " + ec.message());
  if (!std::filesystem::is_regular_file(canonical)) {
    return absl::InvalidArgumentError("not a shared library (not a regular file)");
  }
  if (absl::Status magic = CheckElfMagic(canonical); !magic.ok()) return magic;

  std::lock_guard<std::mutex> lock(LoadMutex());
  auto library = std::make_shared<boost::dll::shared_library>();
  // rtld_now: unresolved symbols fail here, with the loader naming them, instead of at the
  // first call in the middle of training. rtld_local: two plugins may define the same symbols.
  boost::dll::fs::error_code load_error;
  dlerror();  // clear any stale message
  library->load(canonical, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local,
                load_error);
  if (load_error || !library->is_loaded()) {
    const char* message = dlerror();
    return absl::FailedPreconditionError(
        "dlopen failed: " + std::string(message != nullptr ? message : load_error.message()));
  }
  if (!library->has(kEntryPointName)) {
    return absl::FailedPreconditionError(
        std::string("missing entry point '") + kEntryPointName +
        "' (not a Chorus plugin, or built without CHORUS_PLUGIN(...))");
  }
  const Descriptor* descriptor = nullptr;
  try {
    descriptor = library->get_alias<const Descriptor*()>(kEntryPointName)();
  } catch (const std::exception& e) {
    return absl::FailedPreconditionError(std::string("entry point threw: ") + e.what());
  } catch (...) {
    return absl::FailedPreconditionError("entry point threw an unknown exception");
  }
  if (descriptor == nullptr) return absl::FailedPreconditionError("entry point returned null");

  const uint32_t major = descriptor->abi_major, minor = descriptor->abi_minor;
  if (major != kAbiMajor) {
    return absl::FailedPreconditionError("ABI mismatch: built for plugin ABI " +
                                         AbiString(major, minor) + ", this engine uses " +
                                         AbiString(kAbiMajor, kAbiMinor) +
                                         " (another major; rebuild the plugin against this "
                                         "engine's SDK)");
  }
  if (minor > kAbiMinor) {
    return absl::FailedPreconditionError(
        "ABI mismatch: built for plugin ABI " + AbiString(major, minor) +
        ", newer than this engine's " + AbiString(kAbiMajor, kAbiMinor) +
        " (update the engine or rebuild the plugin against its SDK)");
  }
  if (descriptor->struct_size < kMinDescriptorSize) {
    return absl::FailedPreconditionError("ABI mismatch: descriptor is " +
                                         std::to_string(descriptor->struct_size) +
                                         " bytes, plugin ABI " + AbiString(major, minor) +
                                         " needs at least " + std::to_string(kMinDescriptorSize));
  }

  OpenedLibrary opened;
  opened.path = canonical.string();
  opened.descriptor = descriptor;
  opened.handle = std::shared_ptr<const void>(library, library.get());
  return opened;
}

}  // namespace chorus::plugin
