// DataSetup: the recipe's manifests and modalities turned into loaders.
//
// Manifests are read once per split; lines without a "split" field serve every split, and a
// manifest with no line of the wanted split is left out of that split's mixture (a recipe can list
// train.jsonl and test.jsonl together and let the `split` field sort them). Each modality's codec
// is its plugin decoder; whether a manifest value is a path or inline content comes from the
// plugin's ManifestValue.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "chorus/plugin.h"
#include "core/data/cursor.h"
#include "core/data/loader.h"
#include "core/data/mixed_source.h"
#include "core/recipe/config.h"

namespace chorus::recipe {

struct ModalityIo {
  std::shared_ptr<const plugin::Decoder> decoder;
  plugin::ManifestValue value = plugin::ManifestValue::kPath;
};

class DataSetup {
 public:
  DataSetup(const RecipeConfig& config, std::map<std::string, ModalityIo> modalities);

  // The mixture of every manifest's lines of `split` (data.train_split / eval.split).
  absl::StatusOr<std::shared_ptr<const data::MixedSource>> source(const std::string& split) const;

  // A loader over `source`: training (shuffled, augmented, endless, full batches) or
  // evaluation (file order, no augmentation, one pass, last batch kept).
  absl::StatusOr<std::unique_ptr<data::Loader>> loader(
      std::shared_ptr<const data::MixedSource> source, bool training, int64_t batch_size,
      std::optional<data::Cursor> resume = {}) const;

  const std::map<std::string, ModalityIo>& modalities() const { return modalities_; }

 private:
  const RecipeConfig& config_;
  std::map<std::string, ModalityIo> modalities_;
};

}  // namespace chorus::recipe
