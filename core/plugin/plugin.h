// A loaded, ABI-checked plugin: what the rest of the engine holds to make decoders/encoders.
//
// Lifetime: a Plugin, and every decoder and encoder it makes, holds a reference to the library
// handle, so the library is unloaded only after the Plugin, the Registry that found it and the
// last object made from it are all gone, in any order.
//
// Exceptions: every call into plugin code made here is guarded, and the decoders handed out
// are wrapped so that their methods turn any exception into a Status as well. Encoders are
// nn::Modules handed out as they are (wrapping would change their parameter names); call
// them through Encode() below to get the same guarantee.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "chorus/plugin.h"
#include "nlohmann/json.hpp"

namespace chorus::plugin {

// What `chorus plugins list` shows about a plugin.
struct PluginInfo {
  std::string name;
  std::string version;
  Modality modality = Modality::kOther;
  ManifestValue manifest_value = ManifestValue::kPath;
  std::string description;
  std::string path;  // canonical path of the library file
  uint32_t abi_major = 0, abi_minor = 0;
};
nlohmann::json PluginInfoToJson(const PluginInfo& info);

class Plugin {
 public:
  // Opens, ABI-checks and reads one library file. The status message is the rejection reason.
  static absl::StatusOr<std::shared_ptr<const Plugin>> Load(const std::filesystem::path& path);

  const PluginInfo& info() const { return info_; }
  const std::string& name() const { return info_.name; }
  const OptionSchema& option_schema() const { return schema_; }

  // Checks options against this plugin's schema and fills defaults (see core/plugin/options.h);
  // relative kPath options resolve against `base_dir` (the recipe's folder).
  absl::StatusOr<Options> ValidateOptions(const nlohmann::json& options,
                                          const std::filesystem::path& base_dir = {}) const;

  // Validates `options`, then calls the plugin's factory. The decoder keeps the library loaded.
  absl::StatusOr<std::shared_ptr<const Decoder>> MakeDecoder(
      const nlohmann::json& options, const std::filesystem::path& base_dir = {}) const;
  // Validates config.options, then calls the plugin's factory; checks the encoder's
  // shared_width() against config.shared_width. The encoder keeps the library loaded.
  absl::StatusOr<std::shared_ptr<Encoder>> MakeEncoder(
      const EncoderConfig& config, const std::filesystem::path& base_dir = {}) const;

  // Private construction; use Load().
  struct Parts;
  explicit Plugin(Parts parts);

 private:
  std::shared_ptr<const void> library_;
  const Descriptor* descriptor_ = nullptr;
  PluginInfo info_;
  OptionSchema schema_;
};

// encoder.encode(batch) with any exception turned into a Status naming the encoder's type.
absl::StatusOr<EncoderOutput> Encode(Encoder& encoder, const data::Batch& batch);

}  // namespace chorus::plugin
