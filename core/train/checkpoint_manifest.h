// manifest.json: the last file written into a checkpoint directory. It lists every other file
// with its size and CRC-32C, so a reader can tell a complete, intact checkpoint from a partial
// or damaged one before trusting any of its bytes. Internal to core/train.
//
//   {"format": "chorus-checkpoint-manifest", "version": 1,
//    "files": {"model.safetensors": {"bytes": 1048712, "crc32c": "8a9136aa"}, ...}}
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace chorus::train::ckpt_internal {

inline constexpr const char* kManifestFile = "manifest.json";

// Checksums `files` (plain names inside `dir`) and returns the manifest text.
absl::StatusOr<std::string> build_manifest(const std::string& dir,
                                           const std::vector<std::string>& files);

// Checks `dir` against its manifest: the manifest is present and well formed, lists every file
// in `required`, every listed file exists with the recorded size and checksum, and the
// directory holds nothing else. All problems are reported together in one DataLoss status
// whose message starts with `dir`.
absl::Status verify_manifest(const std::string& dir, const std::vector<std::string>& required);

}  // namespace chorus::train::ckpt_internal
