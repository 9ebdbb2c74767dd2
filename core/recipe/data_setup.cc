#include "core/recipe/data_setup.h"

#include <iostream>

namespace chorus::recipe {

DataSetup::DataSetup(const RecipeConfig& config, std::map<std::string, ModalityIo> modalities)
    : config_(config), modalities_(std::move(modalities)) {}

absl::StatusOr<std::shared_ptr<const data::MixedSource>> DataSetup::source(
    const std::string& split) const {
  data::ManifestOptions options;
  options.schema.modalities.clear();
  for (const auto& [name, io] : modalities_) {
    options.schema.modalities[name] = io.value == plugin::ManifestValue::kInline
                                          ? data::ValueKind::kInline
                                          : data::ValueKind::kPath;
  }
  options.num_classes = config_.data.num_classes;
  // Read unfiltered, then keep this split's lines and the lines that name no split (those
  // serve every split, so a manifest without split fields works for training and evaluation).
  std::vector<data::MixedSource::Part> parts;
  for (const auto& m : config_.data.manifests) {
    auto manifest = data::read_manifest(m.path, options);
    if (!manifest.ok()) return manifest.status();
    std::vector<data::ManifestEntry> kept;
    for (auto& e : manifest->entries) {
      if (e.split.empty() || e.split == split) {
        kept.push_back(std::move(e));
      } else {
        ++manifest->lines_filtered;
      }
    }
    manifest->entries = std::move(kept);
    if (manifest->entries.empty()) continue;  // no line of this split
    parts.push_back({std::move(*manifest), m.weight});
  }
  if (parts.empty()) {
    return absl::NotFoundError("no manifest of data.manifests has a line with split '" + split +
                               "'");
  }
  auto mixed = data::MixedSource::create(std::move(parts));
  if (!mixed.ok()) return mixed.status();
  return std::make_shared<const data::MixedSource>(std::move(*mixed));
}

absl::StatusOr<std::unique_ptr<data::Loader>> DataSetup::loader(
    std::shared_ptr<const data::MixedSource> source, bool training, int64_t batch_size,
    std::optional<data::Cursor> resume) const {
  std::map<std::string, data::Codec> codecs;
  for (const auto& [name, io] : modalities_) {
    auto decoder = io.decoder;
    const bool inline_value = io.value == plugin::ManifestValue::kInline;
    codecs[name] = data::Codec{
        [decoder, inline_value](const std::string& value, const data::DecodeOptions& o) {
          return inline_value ? decoder->decode_bytes(value, o) : decoder->decode_file(value, o);
        },
        [decoder](const std::vector<data::Sample>& samples) { return decoder->collate(samples); }};
  }
  data::LoaderOptions options;
  options.batch_size = batch_size;
  options.workers = config_.data.workers;
  options.prefetch = config_.data.prefetch;
  options.seed = config_.run.seed;
  options.shuffle = training;
  options.augment = training;
  options.drop_last = training;  // contrastive steps want full batches
  options.max_epochs = training ? 0 : 1;
  options.on_bad_sample = config_.data.on_bad_sample == BadSample::kFail
                              ? data::BadSamplePolicy::kFail
                              : data::BadSamplePolicy::kSkip;
  options.num_classes = config_.data.num_classes;
  return data::Loader::create(std::move(source), std::move(codecs), options, resume);
}

}  // namespace chorus::recipe
