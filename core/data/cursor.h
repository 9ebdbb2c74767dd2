// Data cursor: where a Loader stands, as a small JSON object stored in checkpoints.
//
// The order of every epoch is a pure function of (seed, epoch) (see mixed_source.h) and each
// sample's augmentation seed a pure function of (seed, epoch, position), so the loader's whole
// random state is the seed: (seed, epoch, position) resume exactly. `position` counts this rank's
// samples of the epoch already delivered (skipped bad samples included), so a resumed loader may
// even use another batch size. The fingerprint and world size guard against resuming on other
// data or another sharding, which would silently visit a different order.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace chorus::data {

struct Cursor {
  uint64_t seed = 0;
  int64_t epoch = 0;
  int64_t position = 0;  // samples of this rank's share of `epoch` already consumed
  int64_t rank = 0;
  int64_t world_size = 1;
  uint64_t fingerprint = 0;  // MixedSource::fingerprint() of the data it was taken on

  bool operator==(const Cursor&) const = default;
  nlohmann::json to_json() const;
  // Every field is required and type-checked; an error names the field.
  static absl::StatusOr<Cursor> from_json(const nlohmann::json& j);
};

}  // namespace chorus::data
