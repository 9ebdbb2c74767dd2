// Plugin options: checking what a recipe gives against a plugin's OptionSchema.
//
// The host validates options before they reach a plugin, so plugin code can read its options
// without re-checking types, and a user gets every problem at once, each naming the option,
// what was expected and what was given, with a suggestion for misspelt names.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chorus/plugin.h"

namespace chorus::plugin {

// One problem with one option ("" when it is about the options object as a whole).
struct OptionError {
  std::string option;
  std::string message;  // complete sentence fragment naming the option
};

// Checks `given` (a JSON object; null means {}) against `schema`. On success returns the
// complete options: every schema entry present, defaults filled in, integers stored as
// integers, floats as floats, and kPath values made absolute (relative ones resolve against
// `base_dir`, the recipe's directory, or the working directory when empty). Validating its own
// output again gives the same object.
std::vector<OptionError> CheckOptions(const OptionSchema& schema, const nlohmann::json& given,
                                      const std::filesystem::path& base_dir, Options* resolved);

// CheckOptions as a Status: InvalidArgument listing every problem, prefixed with `context`
// (e.g. "plugin 'image'").
absl::StatusOr<Options> ValidateOptions(const OptionSchema& schema, const nlohmann::json& given,
                                        const std::string& context = "options",
                                        const std::filesystem::path& base_dir = {});

// Checks a schema itself (a plugin bug if it fails): non-empty unique names, defaults of the
// declared type and inside the declared range/choices, min <= max.
absl::Status CheckSchema(const OptionSchema& schema);

// "bool", "int", "float", "string", "path", "int list", "float list".
const char* OptionTypeName(OptionType type);

// Human description of the allowed values: "one of: a, b", "in [0, 10]", "" when unconstrained.
std::string DescribeConstraint(const OptionSpec& spec);

// An OptionSpec as JSON (name, type, default, doc, choices, min, max), for `plugins info --json`.
nlohmann::json OptionSpecToJson(const OptionSpec& spec);

}  // namespace chorus::plugin
