// state.json of a checkpoint: CheckpointState to and from JSON, with every field checked on
// the way back in. Internal to core/train.
//
//   {"format": "chorus-checkpoint-state", "version": 1, "step": 1200, "stage": "instance",
//    "rng": {"data": {"seed": 42, "offset": 4096}}, "data_cursor": {...}, "extra": {...},
//    "config": "<resolved recipe>", "engine": {"version": "0.1.0", "git_revision": "d833a23"},
//    "saved_at": "2025-01-31T12:00:00.123Z", "saved_at_unix_ms": 1738324800123}
//
// RNG seeds and offsets are full 64-bit unsigned JSON integers (exact in nlohmann::json and
// Python; a JavaScript reader would round them).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "core/train/checkpoint.h"

namespace chorus::train::ckpt_internal {

inline constexpr const char* kStateFile = "state.json";

std::string state_to_json(const CheckpointState& state);
// `path` only names the file in error messages (DataLoss).
absl::StatusOr<CheckpointState> state_from_json(const std::string& text, const std::string& path);

}  // namespace chorus::train::ckpt_internal
