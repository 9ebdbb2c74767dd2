// Training checkpoints: everything needed to resume a run bit-exactly, written so that a crash
// at any moment leaves a usable checkpoint behind (docs/checkpoints.md has the argument).
//
// A checkpoint is a directory <root>/step-<8-digit step>/ holding
//   model.safetensors      model parameters and buffers (readable by PyTorch / HF tools)
//   optimizer.safetensors  optimizer state as named tensors
//   state.json             step, stage, RNG (seed, offset) pairs, data cursor, resolved config,
//                          engine version and wall-clock time
//   manifest.json          size and CRC-32C of every other file; written last
//
//   CheckpointState st{.step = 1200, .stage = "instance"};
//   st.rng["data"] = {seed, offset};
//   auto dir = save_checkpoint(run_dir + "/checkpoints", model.state_dict(), opt_state, st, 3);
//   ...
//   std::vector<std::string> warnings;
//   auto ckpt = load_latest_checkpoint(run_dir + "/checkpoints", &warnings);
//
// One process writes to a root at a time (rank 0); saves within a process are serialized.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/nn/module.h"
#include "core/tensor/tensor.h"

namespace chorus::train {

struct CheckpointState {
  int64_t step = 0;
  std::string stage;
  // Named random streams ("data", "dropout", ...) as (seed, offset) of a Philox Generator.
  std::map<std::string, std::pair<uint64_t, uint64_t>> rng;
  // Where the data loader stands; opaque to checkpointing (must be a JSON object).
  nlohmann::json data_cursor = nlohmann::json::object();
  // The resolved recipe text, so a checkpoint says exactly what produced it.
  std::string config;
  // Small non-tensor state of other components (loss scale, schedule position, ...).
  nlohmann::json extra = nlohmann::json::object();

  // Set by save_checkpoint (whatever the caller put here is ignored); filled in by loading.
  std::string engine_version;  // chorus::kVersion
  std::string git_revision;    // chorus::kGitRevision
  std::string saved_at;        // UTC, ISO 8601 with milliseconds: "2025-01-31T12:00:00.123Z"
  int64_t saved_at_unix_ms = 0;
};

struct LoadedCheckpoint {
  std::string dir;
  CheckpointState state;
  std::map<std::string, Tensor> model;
  std::map<std::string, Tensor> optimizer;
};

// "step-00001200". Steps past 99,999,999 get more digits; ordering is by number, not by name.
std::string checkpoint_dir_name(int64_t step);

// Writes a checkpoint for state.step under `root` (created if needed) and returns its
// directory. The files are written and fsynced in <root>/.tmp-step-XXXXXXXX-<pid>/, which is
// then renamed to step-XXXXXXXX; an existing checkpoint of the same step is replaced
// atomically. Afterwards, checkpoints older than state.step beyond the newest `keep_last` are
// deleted (keep_last <= 0 keeps all; newer checkpoints and the one just written are never
// deleted), as are leftovers of earlier crashed saves. Tensors must be on the CPU.
// Failures of that clean-up do not fail the save; they are appended to `warnings` if given.
absl::StatusOr<std::string> save_checkpoint(const std::string& root, const nn::NamedTensors& model,
                                            const nn::NamedTensors& optimizer,
                                            const CheckpointState& state, int keep_last,
                                            std::vector<std::string>* warnings = nullptr);

// Loads one checkpoint directory after verifying it against its manifest (every file present,
// sizes and CRC-32C match, nothing extra). A damaged checkpoint gives DataLoss with a message
// naming the directory, each bad file and the reason; a missing directory gives NotFound.
absl::StatusOr<LoadedCheckpoint> load_checkpoint(const std::string& dir);

// Loads the newest good checkpoint under `root`. Corrupt or partial ones are skipped, each
// with a warning naming the directory and the reason; temporary directories of crashed saves
// are ignored. NotFound when there is no good checkpoint (or no root).
absl::StatusOr<LoadedCheckpoint> load_latest_checkpoint(const std::string& root,
                                                        std::vector<std::string>* warnings);

struct CheckpointEntry {
  int64_t step = 0;
  std::string dir;
};
// The checkpoint directories under `root`, newest first, without verifying them. Besides
// step-* this includes a checkpoint left under its temporary .old-step-* name by a crash in
// the middle of a non-atomic replacement (see docs/checkpoints.md). Empty if root is missing.
absl::StatusOr<std::vector<CheckpointEntry>> list_checkpoints(const std::string& root);

}  // namespace chorus::train
