// Loader: decodes and batches the samples of a MixedSource on worker threads, in a deterministic
// order, with a bounded prefetch queue and an exactly resumable cursor.
//
// Wiring (the runner's job): one Codec per modality to load, e.g. from a plugin Decoder
//   codecs["image"] = {[d](const std::string& path, const DecodeOptions& o) {
//                        return d->decode_file(path, o); },
//                      [d](const std::vector<Sample>& s) { return d->collate(s); }};
// Modalities present in the manifest but without a codec are ignored. The decode function gets
// the absolute file path for path modalities and the content for inline ones (schema of the
// manifest). Decode and collate functions are called from several threads at once.
//
// Determinism: batch k of an epoch holds this rank's samples [k·B, (k+1)·B) of the epoch's order
// (mixed_source.h) whatever the thread timing; a sample is decoded with
// DecodeOptions{augment, seed = mix_seed(seed, epoch, global position)}. Bad samples are dropped
// from their batch (the batch comes out short; a batch with no good sample is skipped), so batch
// boundaries never depend on decode outcomes.
//
// Threads: `workers` threads each claim the next undelivered batch, decode its samples, collate
// and park the result; next() returns results in batch order. At most `prefetch` batches are
// claimed but not yet delivered at any time (the bound on memory held by the queue).
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/bad_sample.h"
#include "core/data/cursor.h"
#include "core/data/loaded_batch.h"
#include "core/data/loader_stats.h"
#include "core/data/mixed_source.h"
#include "core/data/sample.h"

namespace chorus::data {

using DecodeFn = std::function<absl::StatusOr<Sample>(const std::string& value_or_abs_path,
                                                      const DecodeOptions& options)>;
using CollateFn = std::function<absl::StatusOr<Batch>(const std::vector<Sample>& samples)>;

struct Codec {
  DecodeFn decode;
  CollateFn collate;
};

struct LoaderOptions {
  int64_t batch_size = 32;
  int workers = 2;
  int prefetch = 4;  // batches claimed ahead of the consumer, at most
  uint64_t seed = 0;
  bool shuffle = true;
  bool augment = false;    // DecodeOptions::augment
  bool drop_last = false;  // drop an epoch's final partial batch
  int64_t max_epochs = 0;  // next() returns nullopt after this many epochs; 0 = endless
  Sharding sharding;
  BadSamplePolicy on_bad_sample = BadSamplePolicy::kSkip;
  std::optional<int64_t> num_classes;            // labels outside [0, n) are bad samples
  std::vector<std::string> required_modalities;  // samples lacking one are bad samples
  // Called on the consumer's thread, in batch order, for every bad sample (and for every bad
  // manifest line when the loader is created); default: one line on stderr.
  std::function<void(const BadSample&)> on_bad;
};

class Loader {
 public:
  // Starts the workers. `resume`, when given, must come from a loader on the same data (same
  // fingerprint), seed and sharding. Bad manifest lines are reported (or, under kFail, make
  // this fail) here.
  static absl::StatusOr<std::unique_ptr<Loader>> create(std::shared_ptr<const MixedSource> source,
                                                        std::map<std::string, Codec> codecs,
                                                        LoaderOptions options,
                                                        std::optional<Cursor> resume = {});
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // The next batch in order; nullopt after max_epochs; an error (naming the sample, its path and
  // the reason) under kFail or when a collator fails. After an error the loader stays failed.
  absl::StatusOr<std::optional<LoadedBatch>> next();

  // Position after the last batch next() returned: resuming from it yields the same next batch.
  Cursor cursor() const;
  LoaderStats stats() const;
  const MixedSource& source() const { return *source_; }
  int64_t samples_per_epoch() const { return static_cast<int64_t>(epoch_len_); }

 private:
  struct Task;
  struct Result;
  Loader() = default;
  void worker_loop();
  Result build(const Task& task) const;
  bool claim(Task& task);  // under mu_

  std::shared_ptr<const MixedSource> source_;
  std::map<std::string, Codec> codecs_;
  LoaderOptions options_;
  size_t epoch_len_ = 0;  // this rank's samples per epoch

  mutable std::mutex mu_;
  std::condition_variable work_cv_, ready_cv_;
  bool stop_ = false;
  // Dispatch state: the next batch a worker will claim.
  int64_t next_claim_ = 0;  // sequence number since creation
  int64_t claim_epoch_ = 0, claim_pos_ = 0;
  std::shared_ptr<const std::vector<SampleRef>> claim_order_;
  bool exhausted_ = false;  // no batch left to claim (max_epochs reached)
  std::map<int64_t, std::unique_ptr<Result>> ready_;
  int64_t next_deliver_ = 0;
  std::optional<absl::Status> failed_;
  int64_t bad_run_ = 0;  // samples in consecutive all-bad batches (an all-bad source stops)
  // Consumer-side position (what cursor() reports).
  int64_t cur_epoch_ = 0, cur_pos_ = 0;
  LoaderStats stats_;
  double start_time_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace chorus::data
