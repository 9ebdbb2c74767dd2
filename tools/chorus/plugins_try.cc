// `chorus plugins try NAME FILE...`: runs a plugin end to end on a few inputs (decode each,
// collate, build the encoder, encode) and prints the shapes and pooled norms as JSON. For
// inline modalities (text) each FILE argument is the content itself. Lets an author check a
// new plugin without writing a recipe, and the SDK test check an out-of-tree build.
#include <cmath>
#include <iostream>

#include "absl/strings/numbers.h"
#include "core/autograd/node.h"
#include "core/plugin/registry.h"
#include "tools/chorus/plugins_args.h"

namespace chorus::cli {
namespace {

// --option values are JSON when they parse as JSON (numbers, true, [1,2]), strings otherwise.
nlohmann::json OptionValue(const std::string& text) {
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? nlohmann::json(text) : parsed;
}

nlohmann::json Shape(const Tensor& t) {
  return t.defined() ? nlohmann::json(t.shape()) : nlohmann::json(nullptr);
}

int Fail(const absl::Status& status) {
  std::cerr << "chorus plugins try: " << status.message() << "\n";
  return 1;
}

}  // namespace

int run_plugins_try(const PluginArgs& args) {
  if (args.positional.size() < 2) {
    std::cerr << "chorus plugins try: expected a plugin name and at least one input\n";
    return 2;
  }
  int64_t width = 64, seed = 0;
  if (args.values.count("--width") && !absl::SimpleAtoi(args.values.at("--width"), &width)) {
    std::cerr << "chorus plugins try: --width expects an integer\n";
    return 2;
  }
  if (args.values.count("--seed") && !absl::SimpleAtoi(args.values.at("--seed"), &seed)) {
    std::cerr << "chorus plugins try: --seed expects an integer\n";
    return 2;
  }
  plugin::Registry registry;
  registry.Discover(args.paths);
  auto found = registry.Find(args.positional[0]);
  if (!found.ok()) return Fail(found.status());
  const plugin::Plugin& p = **found;

  nlohmann::json options = nlohmann::json::object();
  for (const auto& [key, value] : args.options) options[key] = OptionValue(value);
  auto decoder = p.MakeDecoder(options);
  if (!decoder.ok()) return Fail(decoder.status());

  std::vector<data::Sample> samples;
  const data::DecodeOptions decode_options;
  for (size_t i = 1; i < args.positional.size(); ++i) {
    const std::string& input = args.positional[i];
    auto sample = p.info().manifest_value == plugin::ManifestValue::kInline
                      ? (*decoder)->decode_bytes(input, decode_options)
                      : (*decoder)->decode_file(input, decode_options);
    if (!sample.ok()) return Fail(sample.status());
    samples.push_back(std::move(*sample));
  }
  auto batch = (*decoder)->collate(samples);
  if (!batch.ok()) return Fail(batch.status());

  plugin::EncoderConfig config;
  config.shared_width = width;
  config.options = options;
  config.seed = static_cast<uint64_t>(seed);
  auto encoder = p.MakeEncoder(config);
  if (!encoder.ok()) return Fail(encoder.status());
  (*encoder)->eval();
  autograd::NoGradGuard no_grad;
  auto out = plugin::Encode(**encoder, *batch);
  if (!out.ok()) return Fail(out.status());

  nlohmann::json report = {{"plugin", p.name()},
                           {"batch", batch->size},
                           {"parameters", (*encoder)->num_parameters()},
                           {"tokens", Shape(out->tokens)},
                           {"mask", Shape(out->mask)},
                           {"pooled", Shape(out->pooled)}};
  report["pooled_norm"] = nlohmann::json::array();
  if (out->pooled.defined() && out->pooled.dim() == 2) {
    const std::vector<double> pooled = out->pooled.to_vector<double>();
    const int64_t d = out->pooled.size(1);
    for (int64_t b = 0; b < out->pooled.size(0); ++b) {
      double sum = 0;
      for (int64_t k = 0; k < d; ++k) sum += pooled[b * d + k] * pooled[b * d + k];
      report["pooled_norm"].push_back(std::sqrt(sum));
    }
  }
  std::cout << report.dump(2) << "\n";
  return 0;
}

}  // namespace chorus::cli
