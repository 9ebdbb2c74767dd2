// Class prompts: the texts that stand for each class ("a photo of a sandal", ...), used for
// zero-shot classification and as extra positives in the semantic stage.
//
// Read from a classes file (JSON), as written by data/prepare:
//   {"classes": ["T-shirt/top", ...],           required: display names, index = label
//    "nouns":   ["t-shirt", ...],               optional: the word put in templates (default:
//                                               the lower-cased class name)
//    "templates": ["a photo of {a} {n}", ...],  optional: {n} = noun, {a} = "a"/"an"
//    "prompts": [["a t-shirt", ...], ...]}      optional: explicit prompts per class (wins)
// Without templates or prompts, the prompt is "a photo of {a} {n}".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace chorus::recipe {

struct ClassPrompts {
  std::vector<std::string> class_names;  // [C]
  std::vector<std::string> texts;        // [P] every prompt
  std::vector<int64_t> classes;          // [P] class of each prompt
  int64_t num_classes() const { return static_cast<int64_t>(class_names.size()); }
};

// Errors name the file and what is wrong (unreadable, not JSON, no classes, bad types).
absl::StatusOr<ClassPrompts> load_class_prompts(const std::string& path);

// "a photo of {a} {n}" with noun "apple" -> "a photo of an apple".
std::string fill_template(const std::string& pattern, const std::string& noun);

}  // namespace chorus::recipe
