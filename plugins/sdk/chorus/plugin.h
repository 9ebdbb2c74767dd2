// The Chorus plugin SDK: everything a modality plugin includes.
//
// A plugin is one shared library that exports one entry point, `chorus_plugin_entry`, declared
// with CHORUS_PLUGIN(fn) below (Boost.DLL's alias mechanism). The entry point returns a
// Descriptor. The host reads the descriptor's ABI fields (the first three, plain integers, laid
// out the same in every ABI version) before it touches anything else, and refuses a library built
// for another ABI major, or for a newer minor than the host knows.
//
// Contract for authors:
//   - Errors cross the boundary as absl::Status values. No exception may leave a factory or a
//     decoder/encoder method: wrap bodies in chorus::plugin::Guard(...), which turns engine errors
//     (chorus::Error) and any std::exception into a Status naming the plugin's message.
//   - Decoders are called from several loader threads at once: decode_* and collate are const
//     and must be thread-safe.
//   - Encoders are nn::Modules: parameters are registered the usual way, so state dicts,
//     checkpoints, optimizers and train()/eval() work on them unchanged. The projection into the
//     shared space (width EncoderConfig::shared_width) is part of the encoder.
//   - Objects a plugin creates keep its library loaded: the host hands them out with the library
//     handle attached, so nothing here needs to care about unloading.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/dll/alias.hpp"
#include "core/data/sample.h"
#include "core/nn/module.h"
#include "core/tensor/error.h"
#include "core/tensor/tensor.h"
#include "nlohmann/json.hpp"

namespace chorus::plugin {

// ABI of this header. Bump the major for any change to Descriptor's layout or to the virtual
// interfaces below; bump the minor when only appending fields at Descriptor's end.
inline constexpr uint32_t kAbiMajor = 1;
inline constexpr uint32_t kAbiMinor = 0;

enum class Modality : uint32_t { kText = 0, kImage = 1, kAudio = 2, kOther = 3 };
inline const char* modality_name(Modality m) {
  switch (m) {
    case Modality::kText:
      return "text";
    case Modality::kImage:
      return "image";
    case Modality::kAudio:
      return "audio";
    default:
      return "other";
  }
}

// How a manifest value of this modality is read: a path relative to the manifest ("image":
// "img/1.png") or the content itself ("text": "a photo of a sandal").
enum class ManifestValue : uint32_t { kPath = 0, kInline = 1 };

// One option a plugin accepts, shown by `chorus plugins info` and checked by the recipe engine.
enum class OptionType : uint32_t { kBool, kInt, kFloat, kString, kPath, kIntList, kFloatList };
struct OptionSpec {
  std::string name;
  OptionType type = OptionType::kString;
  nlohmann::json default_value;      // null = required
  std::string doc;                   // one sentence for `plugins info`
  std::vector<std::string> choices;  // for kString: allowed values (empty = any)
  double min = -1e300, max = 1e300;  // for kInt/kFloat (and list elements)
};
using OptionSchema = std::vector<OptionSpec>;

// Options as given in the recipe, already validated against the schema and with defaults filled
// in by the host: a JSON object name -> value. Paths (kPath) are absolute.
using Options = nlohmann::json;

// Raw input -> Sample, and Samples -> Batch.
class Decoder {
 public:
  virtual ~Decoder() = default;
  // Reads one input from a file (ManifestValue::kPath modalities).
  virtual absl::StatusOr<data::Sample> decode_file(const std::string& path,
                                                   const data::DecodeOptions& options) const = 0;
  // Decodes one input from memory: file bytes for path modalities, the content itself for
  // inline ones (UTF-8 text).
  virtual absl::StatusOr<data::Sample> decode_bytes(std::string_view bytes,
                                                    const data::DecodeOptions& options) const = 0;
  // Stacks samples batch-first, padding variable-length ones and adding a "mask".
  virtual absl::StatusOr<data::Batch> collate(const std::vector<data::Sample>& samples) const = 0;
};

// What an encoder returns for a batch of B inputs.
struct EncoderOutput {
  Tensor tokens;  // [B, T, D] shared-space tokens
  Tensor mask;    // [B, T] u8, 1 = real token
  Tensor pooled;  // [B, D] one embedding per input (not normalised)
};

struct EncoderConfig {
  int64_t shared_width = 2048;  // D
  Options options;              // the plugin's validated options
  uint64_t seed = 0;            // parameter initialisation
};

class Encoder : public nn::Module {
 public:
  using nn::Module::Module;
  virtual absl::StatusOr<EncoderOutput> encode(const data::Batch& batch) = 0;
  virtual int64_t shared_width() const = 0;
};

// Returned by the entry point. The first three fields are the fixed ABI header.
struct Descriptor {
  uint32_t abi_major = kAbiMajor;
  uint32_t abi_minor = kAbiMinor;
  uint32_t struct_size = sizeof(Descriptor);
  // ---- valid only when the ABI matched ----
  const char* name = "";     // unique plugin name, used in recipes ("image")
  const char* version = "";  // the plugin's own version ("0.1.0")
  Modality modality = Modality::kOther;
  ManifestValue manifest_value = ManifestValue::kPath;
  const char* description = "";  // one line
  OptionSchema (*option_schema)() = nullptr;
  absl::StatusOr<std::unique_ptr<Decoder>> (*make_decoder)(const Options& options) = nullptr;
  absl::StatusOr<std::unique_ptr<Encoder>> (*make_encoder)(const EncoderConfig& config) = nullptr;
};

using EntryPoint = const Descriptor* (*)();
inline constexpr const char* kEntryPointName = "chorus_plugin_entry";

// Runs `body` (returning absl::Status or absl::StatusOr<T>) and converts any exception into an
// InternalError (chorus::Error, i.e. a failed CHORUS_CHECK, becomes InvalidArgument), so that
// no exception crosses the plugin boundary.
template <class F>
auto Guard(std::string_view what, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const chorus::Error& e) {
    return absl::InvalidArgumentError(std::string(what) + ": " + e.what());
  } catch (const std::exception& e) {
    return absl::InternalError(std::string(what) + ": " + e.what());
  } catch (...) {
    return absl::InternalError(std::string(what) + ": unknown exception");
  }
}

}  // namespace chorus::plugin

// Declares the plugin's entry point: CHORUS_PLUGIN(my_descriptor) where
// `const chorus::plugin::Descriptor* my_descriptor()` returns a pointer to a static Descriptor.
#define CHORUS_PLUGIN(descriptor_fn) BOOST_DLL_ALIAS(descriptor_fn, chorus_plugin_entry)
