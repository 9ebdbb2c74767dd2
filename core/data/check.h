// Manifest checking for `chorus data check`: every problem a loader would hit, found up front.
//
// Checks, in order: each line (JSON, field types, at least one modality), each label against
// num_classes, each referenced file (exists, regular, non-empty) and, for modalities with a
// decoder in CheckOptions::decoders, that the file or inline value decodes. Decoders are a hook:
// the CLI fills them from the plugin registry; without any, the decode step is skipped and the
// report says so. A file referenced by many lines (shared spoken captions) is checked once and
// reported once, with the number of lines that use it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/bad_sample.h"
#include "core/data/loader.h"
#include "core/data/manifest.h"
#include "nlohmann/json.hpp"

namespace chorus::data {

struct CheckOptions {
  ManifestSchema schema;
  std::optional<int64_t> num_classes;
  std::map<std::string, DecodeFn> decoders;  // modality -> decoder; missing = not decoded
  int threads = 2;                           // decode checks run on this many threads
};

struct CheckReport {
  std::string manifest;
  int64_t lines = 0;       // non-blank lines
  int64_t good_lines = 0;  // lines with no problem at all
  std::vector<BadSample> problems;
  std::map<std::string, int64_t> problems_by_reason;
  std::map<std::string, int64_t> lines_by_split;  // "" = no split field
  std::map<std::string, int64_t> lines_by_modality;
  std::map<int64_t, int64_t> lines_by_label;
  std::map<std::string, int64_t> files_by_modality;  // distinct files
  std::map<std::string, int64_t> bytes_by_modality;
  std::map<std::string, int64_t> decoded_by_modality;  // distinct values decoded fine
  std::vector<std::string> not_decoded;                // modalities present without a decoder

  bool ok() const { return problems.empty(); }
  nlohmann::json to_json() const;
  std::string summary() const;  // human-readable, several lines
};

// Fails only when the manifest itself cannot be read.
absl::StatusOr<CheckReport> check_manifest(const std::string& path, const CheckOptions& options);

}  // namespace chorus::data
