// MixedSource: one or more manifests, each with a sampling weight, and the deterministic order in
// which one epoch visits their samples.
//
// The order of an epoch is a pure function of (seed, epoch): nothing about it is stored, so a
// data cursor needs only (seed, epoch, position) to resume exactly, and every rank computes the
// same global order before taking its shard.
//   - One manifest: a Fisher-Yates permutation of its entries (identity when shuffle is off);
//     an epoch visits each entry exactly once.
//   - Several: each position of the epoch first picks a manifest with probability weight/Σweights,
//     then takes that manifest's next entry from its own stream of permutations (a fresh
//     permutation every time the stream wraps), so a small manifest with a large weight is
//     oversampled without repeating an entry before all others were seen. The epoch has
//     `epoch_size` positions (default: the sum of the manifests' sizes).
// Random words come from Philox keyed by mix_seed(seed, epoch, purpose, ...), so streams for
// different epochs, manifests and purposes never share counters.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/manifest.h"

namespace chorus::data {

// One sample of an epoch: which manifest, which entry, and where in the global (unsharded)
// order of the epoch it sits.
struct SampleRef {
  int32_t source = 0;
  int64_t index = 0;
  int64_t position = 0;
  bool operator==(const SampleRef&) const = default;
};

// Rank r of world_size takes global positions r, r + world_size, ... . With `even`, the order is
// first cut to a multiple of world_size, so every rank gets the same count (data parallel steps
// stay in lockstep); without, the shards partition the epoch exactly.
struct Sharding {
  int64_t rank = 0;
  int64_t world_size = 1;
  bool even = false;
};

// A well-mixed 64-bit hash of several words (splitmix64 finaliser chained), used to derive
// independent Philox keys.
uint64_t mix_seed(uint64_t a, uint64_t b);
uint64_t mix_seed(uint64_t a, uint64_t b, uint64_t c);

// Fisher-Yates permutation of [0, n) driven by Philox words of `key`.
std::vector<int64_t> permutation(int64_t n, uint64_t key);

class MixedSource {
 public:
  struct Part {
    Manifest manifest;
    double weight = 1.0;
  };
  // Checks weights (finite, > 0) and that every manifest has entries. epoch_size 0 means the sum
  // of the manifests' sizes.
  static absl::StatusOr<MixedSource> create(std::vector<Part> parts, int64_t epoch_size = 0);
  static absl::StatusOr<MixedSource> single(Manifest manifest);
  // Reads each manifest file (with `options`: schema, split filter) and mixes them; what a
  // recipe's `data: [{manifest: ..., weight: ...}]` turns into.
  struct FileSpec {
    std::string path;
    double weight = 1.0;
  };
  static absl::StatusOr<MixedSource> open(const std::vector<FileSpec>& files,
                                          const ManifestOptions& options, int64_t epoch_size = 0);

  int64_t epoch_size() const { return epoch_size_; }
  int num_sources() const { return static_cast<int>(parts_.size()); }
  const Manifest& manifest(int source) const { return parts_[source].manifest; }
  double weight(int source) const { return parts_[source].weight; }
  const ManifestEntry& entry(const SampleRef& ref) const {
    return parts_[ref.source].manifest.entries[ref.index];
  }
  // Identifies the sources' sizes, weights and epoch size; stored in cursors so that resuming on
  // different data is refused instead of silently continuing elsewhere.
  uint64_t fingerprint() const;

  // The global order of one epoch, before sharding.
  std::vector<SampleRef> epoch_order(uint64_t seed, int64_t epoch, bool shuffle = true) const;

 private:
  std::vector<Part> parts_;
  int64_t epoch_size_ = 0;
};

// This rank's share of an epoch order, in order.
std::vector<SampleRef> shard(const std::vector<SampleRef>& order, const Sharding& sharding);

}  // namespace chorus::data
