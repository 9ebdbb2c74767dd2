#include "core/data/loader.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <iostream>

#include "absl/strings/str_cat.h"

namespace chorus::data {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool is_regular_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Calls a decode/collate function, turning a stray exception into a status so that one bad
// input can never take the loader (or the process) down.
template <class F>
auto guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("exception: ", e.what()));
  } catch (...) {
    return absl::InternalError("unknown exception");
  }
}

int64_t shard_length(int64_t n, const Sharding& s) {
  if (s.even) n -= n % s.world_size;
  return n > s.rank ? (n - s.rank + s.world_size - 1) / s.world_size : 0;
}

}  // namespace

struct Loader::Task {
  int64_t seq = 0, epoch = 0, begin = 0, end = 0;
  std::shared_ptr<const std::vector<SampleRef>> order;
};

struct Loader::Result {
  int64_t epoch = 0, begin = 0, end = 0;
  LoadedBatch batch;
  std::vector<BadSample> bad;
  std::optional<absl::Status> error;
  double seconds = 0;
};

absl::StatusOr<std::unique_ptr<Loader>> Loader::create(std::shared_ptr<const MixedSource> source,
                                                       std::map<std::string, Codec> codecs,
                                                       LoaderOptions options,
                                                       std::optional<Cursor> resume) {
  if (!source) return absl::InvalidArgumentError("loader: no source");
  if (options.batch_size < 1 || options.workers < 1 || options.prefetch < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("loader: batch_size, workers and prefetch must be >= 1 (got ",
                     options.batch_size, ", ", options.workers, ", ", options.prefetch, ")"));
  }
  const Sharding& sh = options.sharding;
  if (sh.world_size < 1 || sh.rank < 0 || sh.rank >= sh.world_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("loader: bad sharding: rank ", sh.rank, " of world size ", sh.world_size));
  }
  if (codecs.empty()) return absl::InvalidArgumentError("loader: no modality codecs");
  for (const auto& [name, codec] : codecs) {
    if (!codec.decode || !codec.collate) {
      return absl::InvalidArgumentError(
          absl::StrCat("loader: modality \"", name, "\" lacks a decode or collate function"));
    }
  }
  if (!options.on_bad) {
    options.on_bad = [](const BadSample& b) {
      std::cerr << "chorus data: skipped " << b.to_string() << "\n";
    };
  }

  std::unique_ptr<Loader> l(new Loader());
  l->epoch_len_ = static_cast<size_t>(shard_length(source->epoch_size(), sh));
  const int64_t min_batch = options.drop_last ? options.batch_size : 1;
  if (static_cast<int64_t>(l->epoch_len_) < min_batch) {
    return absl::InvalidArgumentError(
        absl::StrCat("loader: rank ", sh.rank, " of ", sh.world_size, " gets ", l->epoch_len_,
                     " samples per epoch, fewer than one batch (", min_batch, ")"));
  }
  if (resume) {
    if (resume->fingerprint != source->fingerprint()) {
      return absl::FailedPreconditionError(
          "data cursor was saved on different data (manifest sizes, weights or epoch size "
          "differ)");
    }
    if (resume->seed != options.seed) {
      return absl::FailedPreconditionError(absl::StrCat(
          "data cursor was saved with seed ", resume->seed, ", loader seed is ", options.seed));
    }
    if (resume->rank != sh.rank || resume->world_size != sh.world_size) {
      return absl::FailedPreconditionError(
          absl::StrCat("data cursor was saved on rank ", resume->rank, " of ", resume->world_size,
                       ", loader is rank ", sh.rank, " of ", sh.world_size));
    }
    if (resume->position > static_cast<int64_t>(l->epoch_len_)) {
      return absl::FailedPreconditionError(absl::StrCat("data cursor position ", resume->position,
                                                        " beyond the epoch (", l->epoch_len_,
                                                        " samples)"));
    }
    l->claim_epoch_ = l->cur_epoch_ = resume->epoch;
    l->claim_pos_ = l->cur_pos_ = resume->position;
  }

  // Bad manifest lines: reported once, here.
  for (int s = 0; s < source->num_sources(); ++s) {
    for (const ManifestIssue& issue : source->manifest(s).issues) {
      const std::string where = absl::StrCat(issue.file, ":", issue.line);
      if (options.on_bad_sample == BadSamplePolicy::kFail) {
        return absl::InvalidArgumentError(
            absl::StrCat(issue.to_string(), " (on_bad_sample: fail)"));
      }
      BadSample bad{BadReason::kBadLine, where, where, issue.problem};
      ++l->stats_.bad_samples;
      ++l->stats_.bad_by_reason[bad_reason_name(bad.reason)];
      options.on_bad(bad);
    }
  }

  l->source_ = std::move(source);
  l->codecs_ = std::move(codecs);
  l->options_ = std::move(options);
  l->start_time_ = now_seconds();
  for (int i = 0; i < l->options_.workers; ++i) {
    l->threads_.emplace_back([p = l.get()] { p->worker_loop(); });
  }
  return l;
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

bool Loader::claim(Task& task) {
  const int64_t b = options_.batch_size;
  const int64_t len = static_cast<int64_t>(epoch_len_);
  if (claim_pos_ + (options_.drop_last ? b : 1) > len) {
    ++claim_epoch_;
    claim_pos_ = 0;
    claim_order_.reset();
  }
  if (options_.max_epochs > 0 && claim_epoch_ >= options_.max_epochs) {
    exhausted_ = true;
    return false;
  }
  if (!claim_order_) {
    claim_order_ = std::make_shared<const std::vector<SampleRef>>(shard(
        source_->epoch_order(options_.seed, claim_epoch_, options_.shuffle), options_.sharding));
  }
  task.seq = next_claim_++;
  task.epoch = claim_epoch_;
  task.begin = claim_pos_;
  task.end = std::min(claim_pos_ + b, len);
  task.order = claim_order_;
  claim_pos_ = task.end;
  return true;
}

void Loader::worker_loop() {
  for (;;) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] {
        return stop_ || (!exhausted_ && next_claim_ < next_deliver_ + options_.prefetch);
      });
      if (stop_) return;
      if (!claim(task)) {
        ready_cv_.notify_all();  // a consumer waiting for the end must see `exhausted_`
        continue;
      }
      stats_.max_in_flight = std::max(stats_.max_in_flight, next_claim_ - next_deliver_);
    }
    std::unique_ptr<Result> result;
    try {
      result = std::make_unique<Result>(build(task));
    } catch (const std::exception& e) {  // e.g. out of memory while batching
      result = std::make_unique<Result>();
      result->epoch = task.epoch;
      result->begin = task.begin;
      result->end = task.end;
      result->error = absl::InternalError(absl::StrCat(
          "loading batch of epoch ", task.epoch, " at position ", task.begin, ": ", e.what()));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ready_[task.seq] = std::move(result);
    }
    ready_cv_.notify_all();
  }
}

Loader::Result Loader::build(const Task& task) const {
  const double t0 = now_seconds();
  Result r;
  r.epoch = task.epoch;
  r.begin = task.begin;
  r.end = task.end;
  LoadedBatch& out = r.batch;
  out.epoch = task.epoch;
  out.index = task.begin / options_.batch_size;
  std::map<std::string, std::vector<Sample>> samples;
  std::map<std::string, std::vector<int64_t>> rows;
  std::vector<int64_t> labels;

  for (int64_t pos = task.begin; pos < task.end; ++pos) {
    const SampleRef& ref = (*task.order)[pos];
    const ManifestEntry& entry = source_->entry(ref);
    const Manifest& manifest = source_->manifest(ref.source);
    const std::string line_where = absl::StrCat(manifest.path, ":", entry.line);
    auto bad = [&](BadReason reason, std::string where, std::string message) {
      r.bad.push_back({reason, entry.id, std::move(where), std::move(message)});
      if (options_.on_bad_sample == BadSamplePolicy::kFail && !r.error) {
        r.error = absl::InvalidArgumentError(
            absl::StrCat(r.bad.back().to_string(), " (on_bad_sample: fail)"));
      }
    };
    bool ok = true;
    for (const std::string& m : options_.required_modalities) {
      if (!entry.values.count(m)) {
        bad(BadReason::kMissingModality, line_where, absl::StrCat("no \"", m, "\""));
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    if (entry.label && options_.num_classes &&
        (*entry.label < 0 || *entry.label >= *options_.num_classes)) {
      bad(BadReason::kLabelOutOfRange, line_where,
          absl::StrCat("label ", *entry.label, " out of range [0, ", *options_.num_classes, ")"));
      continue;
    }
    const uint64_t seed = mix_seed(options_.seed, static_cast<uint64_t>(task.epoch),
                                   static_cast<uint64_t>(ref.position));
    const DecodeOptions decode_options{options_.augment, seed};
    std::map<std::string, Sample> decoded;
    for (const auto& [modality, value] : entry.values) {
      auto codec = codecs_.find(modality);
      if (codec == codecs_.end()) continue;
      auto kind = manifest.schema.modalities.find(modality);
      const bool is_path =
          kind != manifest.schema.modalities.end() && kind->second == ValueKind::kPath;
      const std::string& where = is_path ? value : line_where;
      if (is_path && !is_regular_file(value)) {
        bad(BadReason::kMissingFile, value, "no such file");
        ok = false;
        break;
      }
      absl::StatusOr<Sample> s =
          guarded([&] { return codec->second.decode(value, decode_options); });
      if (!s.ok()) {
        bad(BadReason::kDecodeError, where, absl::StrCat(modality, ": ", s.status().message()));
        ok = false;
        break;
      }
      decoded.emplace(modality, *std::move(s));
    }
    if (!ok) continue;
    if (decoded.empty()) {
      bad(BadReason::kMissingModality, line_where, "none of the loaded modalities");
      continue;
    }
    const int64_t row = out.size++;
    for (auto& [modality, s] : decoded) {
      samples[modality].push_back(std::move(s));
      rows[modality].push_back(row);
    }
    labels.push_back(entry.label.value_or(-1));
    out.ids.push_back(entry.id);
    out.refs.push_back(ref);
    out.seeds.push_back(seed);
  }
  if (r.error || out.size == 0) {
    r.seconds = now_seconds() - t0;
    return r;
  }

  out.labels = Tensor::from_vector(labels, {out.size});
  for (auto& [modality, list] : samples) {
    absl::StatusOr<Batch> b = guarded([&] { return codecs_.at(modality).collate(list); });
    if (!b.ok()) {
      r.error =
          absl::InternalError(absl::StrCat("collating \"", modality, "\" for batch ", out.index,
                                           " of epoch ", out.epoch, ": ", b.status().message()));
      break;
    }
    ModalityBatch& mb = out.modalities[modality];
    mb.batch = *std::move(b);
    mb.rows = std::move(rows[modality]);
    std::vector<uint8_t> present(static_cast<size_t>(out.size), 0);
    for (int64_t row : mb.rows) present[row] = 1;
    mb.present = Tensor::from_vector(present, {out.size});
  }
  r.seconds = now_seconds() - t0;
  return r;
}

absl::StatusOr<std::optional<LoadedBatch>> Loader::next() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (failed_) return *failed_;
    const double t0 = now_seconds();
    ready_cv_.wait(lock, [&] {
      return ready_.count(next_deliver_) > 0 || (exhausted_ && next_deliver_ == next_claim_);
    });
    stats_.wait_seconds += now_seconds() - t0;
    stats_.elapsed_seconds = now_seconds() - start_time_;
    auto it = ready_.find(next_deliver_);
    if (it == ready_.end()) return std::optional<LoadedBatch>();
    std::unique_ptr<Result> r = std::move(it->second);
    ready_.erase(it);
    ++next_deliver_;
    work_cv_.notify_all();
    cur_epoch_ = r->epoch;
    cur_pos_ = r->end;
    stats_.decode_seconds += r->seconds;
    for (const BadSample& b : r->bad) {
      ++stats_.bad_samples;
      ++stats_.bad_by_reason[bad_reason_name(b.reason)];
    }
    if (!r->bad.empty()) {
      // The callback may call back into the loader (stats()), so it runs unlocked.
      lock.unlock();
      for (const BadSample& b : r->bad) options_.on_bad(b);
      lock.lock();
    }
    if (r->error) {
      failed_ = *r->error;
      return *failed_;
    }
    if (r->batch.size == 0) {  // every sample of this batch was bad
      bad_run_ += r->end - r->begin;
      if (bad_run_ >= static_cast<int64_t>(epoch_len_)) {
        failed_ = absl::FailedPreconditionError(
            "a whole epoch's worth of consecutive samples was bad (see the bad-sample log)");
        return *failed_;
      }
      continue;
    }
    bad_run_ = 0;
    ++stats_.batches;
    stats_.samples += r->batch.size;
    return std::optional<LoadedBatch>(std::move(r->batch));
  }
}

Cursor Loader::cursor() const {
  std::lock_guard<std::mutex> lock(mu_);
  Cursor c;
  c.seed = options_.seed;
  c.epoch = cur_epoch_;
  c.position = cur_pos_;
  c.rank = options_.sharding.rank;
  c.world_size = options_.sharding.world_size;
  c.fingerprint = source_->fingerprint();
  return c;
}

LoaderStats Loader::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  LoaderStats s = stats_;
  s.elapsed_seconds = now_seconds() - start_time_;
  return s;
}

}  // namespace chorus::data
