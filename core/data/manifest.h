// JSONL manifests: one sample a line, any subset of modalities per line.
//
//   {"image": "img/123.png", "text": "a photo of a sandal", "audio": "wav/123.wav",
//    "label": 5, "split": "train", "voice": "en+f2"}
//
// Which fields are modalities, and whether a modality's value is a file path (relative to the
// manifest's folder) or the content itself, is the ManifestSchema's job: the default knows
// image/audio (paths) and text (inline); the runner adds one entry per plugin it loaded, from the
// plugin's ManifestValue. "label" (integer), "split" (string) and "id" (string or integer) are
// reserved; every other field is kept verbatim in ManifestEntry::extra.
//
// A malformed line never aborts the parse: it becomes a ManifestIssue naming file:line and the
// problem, and the caller (loader, `chorus data check`) applies its bad-sample policy.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace chorus::data {

enum class ValueKind { kPath, kInline };

struct ManifestSchema {
  std::map<std::string, ValueKind> modalities = {
      {"image", ValueKind::kPath}, {"audio", ValueKind::kPath}, {"text", ValueKind::kInline}};
};

struct ManifestOptions {
  ManifestSchema schema;
  std::optional<int64_t> num_classes;  // when set, a label outside [0, num_classes) is an issue
  std::string split;                   // when non-empty, only lines with exactly this split
};

struct ManifestEntry {
  int64_t line = 0;  // 1-based line in the manifest file
  std::string id;    // the "id" field, else "<manifest file name>:<line>"
  // Modality -> value: an absolute, lexically normalised path for kPath modalities, the
  // content itself for kInline ones.
  std::map<std::string, std::string> values;
  std::optional<int64_t> label;
  std::string split;                                // "" when the line has none
  nlohmann::json extra = nlohmann::json::object();  // every non-reserved, non-modality field
};

struct ManifestIssue {
  std::string file;
  int64_t line = 0;
  std::string problem;
  std::string to_string() const;  // "file:line: problem"
};

struct Manifest {
  std::string path;                    // as given
  std::string dir;                     // absolute folder that relative paths are resolved against
  ManifestSchema schema;               // the schema it was parsed with
  std::vector<ManifestEntry> entries;  // good lines that pass the split filter, in file order
  std::vector<ManifestIssue> issues;   // bad lines (skipped)
  int64_t lines_filtered = 0;          // good lines dropped by the split filter
};

// Parses manifest text; `path` names the file in issues and anchors relative paths. Never fails:
// every problem is an issue.
Manifest parse_manifest(std::string_view text, const std::string& path,
                        const ManifestOptions& options = {});

// Reads and parses a manifest file. Fails only when the file cannot be read.
absl::StatusOr<Manifest> read_manifest(const std::string& path,
                                       const ManifestOptions& options = {});

}  // namespace chorus::data
