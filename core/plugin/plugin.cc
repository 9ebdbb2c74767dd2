#include "core/plugin/plugin.h"

#include <utility>

#include "core/plugin/library.h"
#include "core/plugin/options.h"

namespace chorus::plugin {
namespace {

// Forwards to the plugin's decoder, catching anything it throws. Member order matters: the
// library handle is declared first so that it is released after the plugin's object is
// destroyed (the object's destructor and vtable live in the library).
class GuardedDecoder final : public Decoder {
 public:
  GuardedDecoder(std::shared_ptr<const void> library, std::unique_ptr<Decoder> inner,
                 std::string plugin)
      : library_(std::move(library)), inner_(std::move(inner)), plugin_(std::move(plugin)) {}

  absl::StatusOr<data::Sample> decode_file(const std::string& path,
                                           const data::DecodeOptions& options) const override {
    return Guard(plugin_ + " decoder", [&] { return inner_->decode_file(path, options); });
  }
  absl::StatusOr<data::Sample> decode_bytes(std::string_view bytes,
                                            const data::DecodeOptions& options) const override {
    return Guard(plugin_ + " decoder", [&] { return inner_->decode_bytes(bytes, options); });
  }
  absl::StatusOr<data::Batch> collate(const std::vector<data::Sample>& samples) const override {
    return Guard(plugin_ + " collate", [&] { return inner_->collate(samples); });
  }

 private:
  std::shared_ptr<const void> library_;
  std::unique_ptr<Decoder> inner_;
  std::string plugin_;
};

bool ValidName(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string OrEmpty(const char* s) { return s != nullptr ? s : ""; }

}  // namespace

struct Plugin::Parts {
  std::shared_ptr<const void> library;
  const Descriptor* descriptor = nullptr;
  PluginInfo info;
  OptionSchema schema;
};

Plugin::Plugin(Parts parts)
    : library_(std::move(parts.library)),
      descriptor_(parts.descriptor),
      info_(std::move(parts.info)),
      schema_(std::move(parts.schema)) {}

nlohmann::json PluginInfoToJson(const PluginInfo& info) {
  return {{"name", info.name},
          {"version", info.version},
          {"modality", modality_name(info.modality)},
          {"manifest_value", info.manifest_value == ManifestValue::kPath ? "path" : "inline"},
          {"description", info.description},
          {"path", info.path},
          {"abi", std::to_string(info.abi_major) + "." + std::to_string(info.abi_minor)}};
}

absl::StatusOr<std::shared_ptr<const Plugin>> Plugin::Load(const std::filesystem::path& path) {
  absl::StatusOr<OpenedLibrary> opened = OpenPluginLibrary(path);
  if (!opened.ok()) return opened.status();
  const Descriptor& d = *opened->descriptor;

  Parts parts;
  parts.library = opened->handle;
  parts.descriptor = opened->descriptor;
  parts.info.name = OrEmpty(d.name);
  parts.info.version = OrEmpty(d.version);
  parts.info.modality = d.modality;
  parts.info.manifest_value = d.manifest_value;
  parts.info.description = OrEmpty(d.description);
  parts.info.path = opened->path;
  parts.info.abi_major = d.abi_major;
  parts.info.abi_minor = d.abi_minor;
  if (!ValidName(parts.info.name)) {
    return absl::InvalidArgumentError("invalid plugin name '" + parts.info.name +
                                      "' (letters, digits, '_', '-', '.')");
  }
  if (d.option_schema != nullptr) {
    absl::Status schema = Guard("option_schema()", [&]() -> absl::Status {
      parts.schema = d.option_schema();
      return absl::OkStatus();
    });
    if (schema.ok()) schema = CheckSchema(parts.schema);
    if (!schema.ok()) return schema;
  }
  return std::make_shared<const Plugin>(std::move(parts));
}

absl::StatusOr<Options> Plugin::ValidateOptions(const nlohmann::json& options,
                                                const std::filesystem::path& base_dir) const {
  return plugin::ValidateOptions(schema_, options, "plugin '" + name() + "'", base_dir);
}

absl::StatusOr<std::shared_ptr<const Decoder>> Plugin::MakeDecoder(
    const nlohmann::json& options, const std::filesystem::path& base_dir) const {
  if (descriptor_->make_decoder == nullptr) {
    return absl::UnimplementedError("plugin '" + name() + "' provides no decoder");
  }
  absl::StatusOr<Options> validated = ValidateOptions(options, base_dir);
  if (!validated.ok()) return validated.status();
  const std::string what = "plugin '" + name() + "' make_decoder";
  absl::StatusOr<std::unique_ptr<Decoder>> made =
      Guard(what, [&] { return descriptor_->make_decoder(*validated); });
  if (!made.ok()) return made.status();
  if (*made == nullptr) return absl::InternalError(what + " returned no decoder");
  return std::make_shared<const GuardedDecoder>(library_, std::move(*made),
                                                "plugin '" + name() + "'");
}

absl::StatusOr<std::shared_ptr<Encoder>> Plugin::MakeEncoder(
    const EncoderConfig& config, const std::filesystem::path& base_dir) const {
  if (descriptor_->make_encoder == nullptr) {
    return absl::UnimplementedError("plugin '" + name() + "' provides no encoder");
  }
  if (config.shared_width <= 0) {
    return absl::InvalidArgumentError("plugin '" + name() +
                                      "': shared width must be positive, got " +
                                      std::to_string(config.shared_width));
  }
  absl::StatusOr<Options> validated = ValidateOptions(config.options, base_dir);
  if (!validated.ok()) return validated.status();
  EncoderConfig checked = config;
  checked.options = std::move(*validated);
  const std::string what = "plugin '" + name() + "' make_encoder";
  absl::StatusOr<std::unique_ptr<Encoder>> made =
      Guard(what, [&] { return descriptor_->make_encoder(checked); });
  if (!made.ok()) return made.status();
  if (*made == nullptr) return absl::InternalError(what + " returned no encoder");
  // The deleter owns a library reference: the encoder (and its children, which share this
  // control block) is destroyed before the library can be unloaded.
  std::shared_ptr<Encoder> encoder(made->release(), [library = library_](Encoder* e) { delete e; });
  absl::StatusOr<int64_t> width =
      Guard(what, [&]() -> absl::StatusOr<int64_t> { return encoder->shared_width(); });
  if (!width.ok()) return width.status();
  if (*width != config.shared_width) {
    return absl::InternalError(what + " made an encoder of shared width " + std::to_string(*width) +
                               ", asked for " + std::to_string(config.shared_width));
  }
  return encoder;
}

absl::StatusOr<EncoderOutput> Encode(Encoder& encoder, const data::Batch& batch) {
  return Guard(encoder.type_name() + " encode", [&] { return encoder.encode(batch); });
}

}  // namespace chorus::plugin
