// save_checkpoint / load_checkpoint / load_latest_checkpoint (see checkpoint.h and
// docs/checkpoints.md for the layout and the crash-safety argument).
#include "core/train/checkpoint.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/io/safetensors.h"
#include "core/train/checkpoint_fs.h"
#include "core/train/checkpoint_manifest.h"
#include "core/train/checkpoint_state.h"
#include "core/version.h"

namespace chorus::train {
namespace {

namespace fs = std::filesystem;
using namespace ckpt_internal;

constexpr const char* kModelFile = "model.safetensors";
constexpr const char* kOptimizerFile = "optimizer.safetensors";
constexpr const char* kTempPrefix = ".tmp-";
constexpr const char* kReplacedPrefix = ".old-";

std::string join(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / name).string();
}

// ---- Directory names. "step-00001200" is a checkpoint; ".tmp-step-00001200-<pid>" is a save
// in progress (or one that crashed); ".old-step-00001200-<pid>" is a checkpoint being replaced
// without RENAME_EXCHANGE. Only canonical names count, so "step-1200" is not a checkpoint.

enum class Kind { kCheckpoint, kTemporary, kReplaced };
struct ParsedName {
  Kind kind;
  int64_t step;
};

std::optional<int64_t> parse_step_name(std::string_view name) {
  if (name.substr(0, 5) != "step-" || name.size() < 13 || name.size() > 5 + 18) return {};
  int64_t step = 0;
  for (char c : name.substr(5)) {
    if (c < '0' || c > '9') return {};
    step = step * 10 + (c - '0');
  }
  if (checkpoint_dir_name(step) != name) return {};
  return step;
}

std::optional<ParsedName> parse_dir_name(std::string_view name) {
  if (auto step = parse_step_name(name)) return ParsedName{Kind::kCheckpoint, *step};
  for (auto [prefix, kind] :
       {std::pair{kTempPrefix, Kind::kTemporary}, std::pair{kReplacedPrefix, Kind::kReplaced}}) {
    const std::string_view p(prefix);
    const size_t dash = name.rfind('-');
    if (name.substr(0, p.size()) != p || dash == std::string_view::npos ||
        dash + 1 == name.size()) {
      continue;
    }
    const std::string_view pid = name.substr(dash + 1);
    if (!std::all_of(pid.begin(), pid.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    if (auto step = parse_step_name(name.substr(p.size(), dash - p.size()))) {
      return ParsedName{kind, *step};
    }
  }
  return {};
}

std::string base_name(const std::string& dir) {
  fs::path p(dir);
  while (!p.empty() && p.filename().empty()) p = p.parent_path();  // "a/step-1/" -> "step-1"
  return p.filename().string();
}

// ---- Scanning a root.

struct Scan {
  std::vector<CheckpointEntry> checkpoints;  // newest first
  std::vector<std::string> leftovers;        // temporaries and superseded replaced copies
};

absl::StatusOr<Scan> scan_root(const std::string& root) {
  Scan scan;
  std::error_code ec;
  if (!fs::exists(root, ec)) return scan;
  struct Found {
    ParsedName name;
    std::string path;
  };
  std::vector<Found> found;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    std::error_code type_ec;
    if (!entry.is_directory(type_ec)) continue;
    if (auto parsed = parse_dir_name(entry.path().filename().string())) {
      found.push_back({*parsed, entry.path().string()});
    }
  }
  if (ec) return absl::ErrnoToStatus(ec.value(), absl::StrCat(root, ": cannot list"));
  // Newest first; for equal steps the real checkpoint before a replaced copy.
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) {
    if (a.name.step != b.name.step) return a.name.step > b.name.step;
    return a.name.kind < b.name.kind;
  });
  for (size_t i = 0; i < found.size(); ++i) {
    const Found& f = found[i];
    const bool shadowed = f.name.kind == Kind::kReplaced && i > 0 &&
                          found[i - 1].name.step == f.name.step &&
                          found[i - 1].name.kind == Kind::kCheckpoint;
    if (f.name.kind == Kind::kTemporary || shadowed) {
      scan.leftovers.push_back(f.path);
    } else {
      scan.checkpoints.push_back({f.name.step, f.path});
    }
  }
  return scan;
}

void warn(std::vector<std::string>* warnings, std::string message) {
  if (warnings != nullptr) warnings->push_back(std::move(message));
}

void remove_leftovers(const Scan& scan, std::vector<std::string>* warnings) {
  for (const std::string& path : scan.leftovers) {
    if (auto s = remove_tree(path); !s.ok()) warn(warnings, std::string(s.message()));
  }
}

// ---- Writing.

// Saves within one process are serialized: they share temporary names (<pid>) and retention.
std::mutex& save_mutex() {
  static std::mutex m;
  return m;
}

void stamp(CheckpointState& s) {
  const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  const time_t secs = static_cast<time_t>(ms / 1000);
  struct tm utc;
  gmtime_r(&secs, &utc);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms % 1000));
  s.saved_at = absl::StrCat(buf, frac);
  s.saved_at_unix_ms = ms;
  s.engine_version = kVersion;
  s.git_revision = kGitRevision;
}

// Writes every file of the checkpoint into `dir` (empty, private to this save) and syncs it.
absl::Status write_contents(const std::string& dir, const nn::NamedTensors& model,
                            const nn::NamedTensors& optimizer, const CheckpointState& state) {
  const std::map<std::string, std::string> metadata = {{"format", "pt"},
                                                       {"chorus.step", std::to_string(state.step)}};
  if (auto s = save_safetensors(join(dir, kModelFile), model, metadata); !s.ok()) return s;
  if (auto s = save_safetensors(join(dir, kOptimizerFile), optimizer, metadata); !s.ok()) return s;
  CheckpointState stamped = state;
  stamp(stamped);
  if (auto s = write_new_file_synced(join(dir, kStateFile), state_to_json(stamped)); !s.ok()) {
    return s;
  }
  // The manifest goes last: a directory with a valid manifest has all its files complete.
  auto manifest = build_manifest(dir, {kModelFile, kOptimizerFile, kStateFile});
  if (!manifest.ok()) return manifest.status();
  if (auto s = write_new_file_synced(join(dir, kManifestFile), *manifest); !s.ok()) return s;
  return sync_directory(dir);
}

// Moves the finished temporary directory to `final_dir`. An existing checkpoint there is
// swapped out atomically (it ends up at `temp`, for the caller to delete); where the file
// system cannot swap, it is renamed aside first, so a crash in between leaves it under its
// .old- name, which list_checkpoints still finds.
absl::Status install(const std::string& root, const std::string& temp, const std::string& final_dir,
                     std::vector<std::string>* warnings) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(final_dir, ec))) return rename_path(temp, final_dir);
  absl::Status s = exchange_paths(temp, final_dir);
  if (!absl::IsUnimplemented(s)) return s;

  const std::string aside =
      join(root, absl::StrCat(kReplacedPrefix, base_name(final_dir), "-", getpid()));
  if (s = remove_tree(aside); !s.ok()) return s;
  if (s = rename_path(final_dir, aside); !s.ok()) return s;
  if (s = rename_path(temp, final_dir); !s.ok()) {
    (void)rename_path(aside, final_dir);  // put the old one back; it is intact
    return s;
  }
  if (s = sync_directory(root); !s.ok()) return s;
  if (s = remove_tree(aside); !s.ok()) warn(warnings, std::string(s.message()));
  return absl::OkStatus();
}

}  // namespace

std::string checkpoint_dir_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step-%08lld", static_cast<long long>(step));
  return buf;
}

absl::StatusOr<std::string> save_checkpoint(const std::string& root, const nn::NamedTensors& model,
                                            const nn::NamedTensors& optimizer,
                                            const CheckpointState& state, int keep_last,
                                            std::vector<std::string>* warnings) {
  if (state.step < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("save_checkpoint: step must be >= 0, got ", state.step));
  }
  if (!state.data_cursor.is_object() || !state.extra.is_object()) {
    return absl::InvalidArgumentError(
        "save_checkpoint: data_cursor and extra must be JSON objects");
  }
  std::lock_guard<std::mutex> lock(save_mutex());

  std::error_code ec;
  const bool created = fs::create_directories(root, ec);
  if (ec) {
    return absl::ErrnoToStatus(ec.value(),
                               absl::StrCat("cannot create the checkpoint directory ", root));
  }
  if (created) {  // make the new root itself survive a crash (best effort)
    fs::path abs = fs::absolute(root, ec).lexically_normal();
    if (abs.filename().empty()) abs = abs.parent_path();  // "a/b/" -> "a/b"
    (void)sync_directory(abs.parent_path().string());
  }
  if (!fs::is_directory(root, ec)) {
    return absl::FailedPreconditionError(absl::StrCat(root, ": not a directory"));
  }
  // Leftovers of crashed saves go first: they may be as large as the checkpoint to be written.
  auto before = scan_root(root);
  if (!before.ok()) return before.status();
  remove_leftovers(*before, warnings);

  const std::string name = checkpoint_dir_name(state.step);
  const std::string final_dir = join(root, name);
  const std::string temp = join(root, absl::StrCat(kTempPrefix, name, "-", getpid()));
  if (::mkdir(temp.c_str(), 0777) != 0) {
    return absl::ErrnoToStatus(
        errno,
        absl::StrCat(root, ": cannot create the temporary checkpoint directory ", base_name(temp)));
  }
  absl::Status s = write_contents(temp, model, optimizer, state);
  if (s.ok()) s = install(root, temp, final_dir, warnings);
  if (s.ok()) s = sync_directory(root);
  // On success `temp` is gone or holds the replaced checkpoint; on failure, the partial one.
  if (auto removed = remove_tree(temp); !removed.ok())
    warn(warnings, std::string(removed.message()));
  if (!s.ok()) return s;

  // Retention (and replaced copies now superseded). Errors here do not undo the save.
  auto after = scan_root(root);
  if (!after.ok()) {
    warn(warnings, std::string(after.status().message()));
    return final_dir;
  }
  remove_leftovers(*after, warnings);
  if (keep_last > 0) {
    for (size_t i = static_cast<size_t>(keep_last); i < after->checkpoints.size(); ++i) {
      const CheckpointEntry& old = after->checkpoints[i];
      if (old.step >= state.step) continue;  // never the new one, nor anything newer
      if (auto r = remove_tree(old.dir); !r.ok()) warn(warnings, std::string(r.message()));
    }
  }
  return final_dir;
}

absl::StatusOr<LoadedCheckpoint> load_checkpoint(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat(dir, ": no such checkpoint directory"));
  }
  if (auto s = verify_manifest(dir, {kModelFile, kOptimizerFile, kStateFile}); !s.ok()) return s;

  LoadedCheckpoint out;
  out.dir = dir;
  const std::string state_path = join(dir, kStateFile);
  auto text = read_small_file(state_path);
  if (!text.ok()) return absl::DataLossError(text.status().message());
  auto state = state_from_json(*text, state_path);
  if (!state.ok()) return state.status();
  out.state = *std::move(state);
  if (auto parsed = parse_dir_name(base_name(dir));
      parsed && parsed->kind != Kind::kTemporary && parsed->step != out.state.step) {
    return absl::DataLossError(absl::StrCat(dir, ": ", kStateFile, " says step ", out.state.step,
                                            " but the directory is named for step ", parsed->step));
  }
  for (auto [file, target] :
       {std::pair{kModelFile, &out.model}, std::pair{kOptimizerFile, &out.optimizer}}) {
    auto st = SafetensorsFile::Open(join(dir, file));
    if (!st.ok()) return st.status();
    auto tensors = st->load_all();  // copies: nothing stays mapped from the checkpoint
    if (!tensors.ok()) return tensors.status();
    *target = *std::move(tensors);
  }
  return out;
}

absl::StatusOr<LoadedCheckpoint> load_latest_checkpoint(const std::string& root,
                                                        std::vector<std::string>* warnings) {
  auto scan = scan_root(root);
  if (!scan.ok()) return scan.status();
  for (const CheckpointEntry& entry : scan->checkpoints) {
    auto loaded = load_checkpoint(entry.dir);
    if (loaded.ok()) return loaded;
    // Messages already start with the directory or a file inside it; name it only if not.
    const std::string reason(loaded.status().message());
    warn(warnings,
         absl::StrCat("skipping damaged checkpoint: ",
                      absl::StartsWith(reason, entry.dir) ? "" : entry.dir + ": ", reason));
  }
  if (scan->checkpoints.empty()) {
    return absl::NotFoundError(absl::StrCat("no checkpoint under ", root));
  }
  return absl::NotFoundError(absl::StrCat("no valid checkpoint under ", root, ": all ",
                                          scan->checkpoints.size(), " are damaged"));
}

absl::StatusOr<std::vector<CheckpointEntry>> list_checkpoints(const std::string& root) {
  auto scan = scan_root(root);
  if (!scan.ok()) return scan.status();
  return std::move(scan->checkpoints);
}

}  // namespace chorus::train
