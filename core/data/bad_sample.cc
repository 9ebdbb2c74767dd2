#include "core/data/bad_sample.h"

#include "absl/strings/str_cat.h"

namespace chorus::data {

absl::StatusOr<BadSamplePolicy> parse_bad_sample_policy(std::string_view name) {
  if (name == "skip") return BadSamplePolicy::kSkip;
  if (name == "fail") return BadSamplePolicy::kFail;
  return absl::InvalidArgumentError(absl::StrCat(
      "on_bad_sample: expected \"skip\" or \"fail\", got \"", std::string(name), "\""));
}

const char* bad_reason_name(BadReason reason) {
  switch (reason) {
    case BadReason::kBadLine:
      return "bad_line";
    case BadReason::kMissingFile:
      return "missing_file";
    case BadReason::kEmptyFile:
      return "empty_file";
    case BadReason::kDecodeError:
      return "decode_error";
    case BadReason::kLabelOutOfRange:
      return "label_out_of_range";
    case BadReason::kMissingModality:
      return "missing_modality";
  }
  return "unknown";
}

std::string BadSample::to_string() const {
  return absl::StrCat("bad sample ", id, " (", bad_reason_name(reason), ") ", where, ": ", message);
}

}  // namespace chorus::data
