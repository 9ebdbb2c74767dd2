// Bad samples: what the loader does with an input it cannot use, and how it reports one.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace chorus::data {

// `on_bad_sample` in recipes: skip (count, log, continue) or fail (stop with the first one).
enum class BadSamplePolicy { kSkip, kFail };
absl::StatusOr<BadSamplePolicy> parse_bad_sample_policy(std::string_view name);

enum class BadReason {
  kBadLine,          // manifest line that is not valid JSON or has wrong field types
  kMissingFile,      // a path modality's file does not exist or is not a regular file
  kEmptyFile,        // a path modality's file has zero bytes
  kDecodeError,      // the modality's decoder returned an error
  kLabelOutOfRange,  // label outside [0, num_classes)
  kMissingModality,  // the sample lacks a modality the loader requires, or has none it loads
};
const char* bad_reason_name(BadReason reason);  // "bad_line", "missing_file", ...

struct BadSample {
  BadReason reason = BadReason::kDecodeError;
  std::string id;                 // manifest entry id ("train.jsonl:12" when the line has none)
  std::string where;              // the file path (or manifest file:line) the problem is about
  std::string message;            // the decoder's or parser's message
  std::string to_string() const;  // "bad sample <id> (<reason>) <where>: <message>"
};

}  // namespace chorus::data
