// The skeleton plugin's descriptor: its name, its options and its two factories.
#include "skeleton.h"

namespace skeleton {

using chorus::plugin::OptionType;

// Every option the plugin accepts. The host checks a recipe's options against this list
// (types, ranges, choices, unknown names with a suggestion), fills in the defaults, and shows
// it in `chorus plugins info skeleton`. A null default makes an option required.
chorus::plugin::OptionSchema Schema() {
  return {
      {.name = "chunk",
       .type = OptionType::kInt,
       .default_value = 16,
       .doc = "bytes per token",
       .min = 1,
       .max = 4096},
      {.name = "max_tokens",
       .type = OptionType::kInt,
       .default_value = 256,
       .doc = "inputs longer than this many tokens are truncated",
       .min = 1,
       .max = 1 << 20},
      {.name = "scale",
       .type = OptionType::kString,
       .default_value = "unit",
       .doc = "byte scaling: unit = [0, 1], signed = [-1, 1]",
       .choices = {"unit", "signed"}},
  };
}

Settings Settings::FromOptions(const chorus::plugin::Options& options) {
  // The options were validated against Schema(): every key is present with the right type.
  Settings s;
  s.chunk = options.at("chunk").get<int64_t>();
  s.max_tokens = options.at("max_tokens").get<int64_t>();
  s.signed_scale = options.at("scale").get<std::string>() == "signed";
  return s;
}

absl::StatusOr<std::unique_ptr<chorus::plugin::Decoder>> MakeDecoder(
    const chorus::plugin::Options& options) {
  return chorus::plugin::Guard(
      "skeleton make_decoder", [&]() -> absl::StatusOr<std::unique_ptr<chorus::plugin::Decoder>> {
        return std::make_unique<SkeletonDecoder>(Settings::FromOptions(options));
      });
}

absl::StatusOr<std::unique_ptr<chorus::plugin::Encoder>> MakeEncoder(
    const chorus::plugin::EncoderConfig& config) {
  return chorus::plugin::Guard(
      "skeleton make_encoder", [&]() -> absl::StatusOr<std::unique_ptr<chorus::plugin::Encoder>> {
        return std::make_unique<SkeletonEncoder>(Settings::FromOptions(config.options),
                                                 config.shared_width, config.seed);
      });
}

// The entry point returns a pointer to one static descriptor. Its first three fields (ABI
// version and struct size) are filled in by the SDK header's defaults: leave them alone.
const chorus::plugin::Descriptor* Describe() {
  static const chorus::plugin::Descriptor descriptor = [] {
    chorus::plugin::Descriptor d;
    d.name = "skeleton";  // the name recipes use: modalities: {x: {plugin: skeleton}}
    d.version = "0.1.0";
    d.modality = chorus::plugin::Modality::kOther;
    d.manifest_value = chorus::plugin::ManifestValue::kPath;  // manifests name files
    d.description = "template plugin: a file's bytes, chunked into tokens, one linear projection";
    d.option_schema = &Schema;
    d.make_decoder = &MakeDecoder;
    d.make_encoder = &MakeEncoder;
    return d;
  }();
  return &descriptor;
}

}  // namespace skeleton

// Exports `chorus_plugin_entry`, the one symbol the host looks for.
CHORUS_PLUGIN(skeleton::Describe)
