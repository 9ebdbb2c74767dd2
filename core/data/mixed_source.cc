#include "core/data/mixed_source.h"

#include <bit>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/tensor/error.h"
#include "core/tensor/philox.h"

namespace chorus::data {
namespace {

// Purposes of the Philox streams derived from (seed, epoch).
constexpr uint64_t kShuffleStream = 1;
constexpr uint64_t kMixStream = 2;

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Uniform integer in [0, n) from one 32-bit word (Lemire's multiply-shift; n < 2^32).
int64_t below(uint32_t word, int64_t n) {
  return static_cast<int64_t>((static_cast<uint64_t>(word) * static_cast<uint64_t>(n)) >> 32);
}

}  // namespace

uint64_t mix_seed(uint64_t a, uint64_t b) { return splitmix64(splitmix64(a) ^ b); }
uint64_t mix_seed(uint64_t a, uint64_t b, uint64_t c) { return mix_seed(mix_seed(a, b), c); }

std::vector<int64_t> permutation(int64_t n, uint64_t key) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j = below(philox_word(key, 0, static_cast<uint64_t>(i)), i + 1);
    std::swap(p[i], p[j]);
  }
  return p;
}

absl::StatusOr<MixedSource> MixedSource::create(std::vector<Part> parts, int64_t epoch_size) {
  if (parts.empty()) return absl::InvalidArgumentError("no manifests to load from");
  int64_t total = 0;
  for (const Part& p : parts) {
    if (!std::isfinite(p.weight) || p.weight <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(p.manifest.path, ": mixing weight must be > 0, got ", p.weight));
    }
    if (p.manifest.entries.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(p.manifest.path, ": no usable samples (", p.manifest.issues.size(),
                       " bad lines, ", p.manifest.lines_filtered, " filtered by split)"));
    }
    if (p.manifest.entries.size() >= (size_t{1} << 32)) {
      return absl::InvalidArgumentError(absl::StrCat(p.manifest.path, ": too many entries"));
    }
    total += static_cast<int64_t>(p.manifest.entries.size());
  }
  if (epoch_size < 0) {
    return absl::InvalidArgumentError(absl::StrCat("epoch size must be >= 0, got ", epoch_size));
  }
  MixedSource s;
  s.parts_ = std::move(parts);
  s.epoch_size_ = epoch_size == 0 || s.parts_.size() == 1 ? total : epoch_size;
  return s;
}

absl::StatusOr<MixedSource> MixedSource::single(Manifest manifest) {
  std::vector<Part> parts;
  parts.push_back({std::move(manifest), 1.0});
  return create(std::move(parts));
}

absl::StatusOr<MixedSource> MixedSource::open(const std::vector<FileSpec>& files,
                                              const ManifestOptions& options, int64_t epoch_size) {
  std::vector<Part> parts;
  for (const FileSpec& f : files) {
    auto m = read_manifest(f.path, options);
    if (!m.ok()) return m.status();
    parts.push_back({*std::move(m), f.weight});
  }
  return create(std::move(parts), epoch_size);
}

uint64_t MixedSource::fingerprint() const {
  uint64_t h = mix_seed(0x43484f5255530001ull, static_cast<uint64_t>(epoch_size_));
  for (const Part& p : parts_) {
    h = mix_seed(h, p.manifest.entries.size(), std::bit_cast<uint64_t>(p.weight));
  }
  return h;
}

std::vector<SampleRef> MixedSource::epoch_order(uint64_t seed, int64_t epoch, bool shuffle) const {
  std::vector<SampleRef> order;
  order.reserve(static_cast<size_t>(epoch_size_));
  const uint64_t e = static_cast<uint64_t>(epoch);
  // Per manifest: the permutation currently being consumed and the position in it.
  struct Cursor {
    std::vector<int64_t> perm;
    int64_t next = 0;
    int64_t cycle = 0;
  };
  std::vector<Cursor> cursors(parts_.size());
  auto refill = [&](int source) {
    Cursor& c = cursors[source];
    const int64_t n = static_cast<int64_t>(parts_[source].manifest.entries.size());
    if (shuffle) {
      c.perm =
          permutation(n, mix_seed(mix_seed(seed, e, kShuffleStream), static_cast<uint64_t>(source),
                                  static_cast<uint64_t>(c.cycle)));
    } else {
      c.perm.resize(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) c.perm[i] = i;
    }
    c.next = 0;
    ++c.cycle;
  };

  std::vector<double> cumulative;
  double sum = 0;
  for (const Part& p : parts_) cumulative.push_back(sum += p.weight);
  const uint64_t mix_key = mix_seed(seed, e, kMixStream);
  for (int64_t pos = 0; pos < epoch_size_; ++pos) {
    int source = 0;
    if (parts_.size() > 1) {
      const double u = uniform_from_word(philox_word(mix_key, 0, static_cast<uint64_t>(pos))) * sum;
      while (source + 1 < num_sources() && u >= cumulative[source]) ++source;
    }
    Cursor& c = cursors[source];
    if (c.next >= static_cast<int64_t>(c.perm.size())) refill(source);
    order.push_back({source, c.perm[c.next++], pos});
  }
  return order;
}

std::vector<SampleRef> shard(const std::vector<SampleRef>& order, const Sharding& sharding) {
  CHORUS_CHECK(
      sharding.world_size >= 1 && sharding.rank >= 0 && sharding.rank < sharding.world_size,
      "bad sharding: rank ", sharding.rank, " of world size ", sharding.world_size);
  int64_t n = static_cast<int64_t>(order.size());
  if (sharding.even) n -= n % sharding.world_size;
  std::vector<SampleRef> out;
  out.reserve(static_cast<size_t>(n / sharding.world_size + 1));
  for (int64_t i = sharding.rank; i < n; i += sharding.world_size) out.push_back(order[i]);
  return out;
}

}  // namespace chorus::data
