#include "core/plugin/options.h"

#include <cmath>
#include <cstdio>
#include <set>

#include "absl/strings/str_join.h"
#include "core/plugin/suggest.h"

namespace chorus::plugin {
namespace {

constexpr double kUnbounded = 1e300;

std::string FormatNumber(double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.10g", v);
  return buffer;
}

bool HasMin(const OptionSpec& spec) { return spec.min > -kUnbounded; }
bool HasMax(const OptionSpec& spec) { return spec.max < kUnbounded; }

// Checks one scalar against the spec's element type; on success stores the normalised value.
// `where` names the value in messages ("option 'size'", "option 'sizes' element 2").
std::string CheckScalar(const OptionSpec& spec, OptionType type, const nlohmann::json& value,
                        const std::string& where, const std::filesystem::path& base_dir,
                        nlohmann::json* out) {
  const std::string got = value.dump();
  switch (type) {
    case OptionType::kBool:
      if (!value.is_boolean()) return where + ": expected true or false, got " + got;
      *out = value;
      return "";
    case OptionType::kInt:
    case OptionType::kFloat: {
      if (!value.is_number()) {
        return where + ": expected " + (type == OptionType::kInt ? "an integer" : "a number") +
               ", got " + got;
      }
      const double v = value.get<double>();
      if (type == OptionType::kInt && value.is_number_float() && v != std::floor(v)) {
        return where + ": expected an integer, got " + got;
      }
      if (!std::isfinite(v)) return where + ": expected a finite number, got " + got;
      if (v < spec.min || v > spec.max) {
        return where + ": " + got + " is out of range, must be " + DescribeConstraint(spec);
      }
      if (type == OptionType::kInt) {
        *out = value.is_number_float() ? nlohmann::json(static_cast<int64_t>(v)) : value;
      } else {
        *out = v;
      }
      return "";
    }
    case OptionType::kString:
      if (!value.is_string()) return where + ": expected a string, got " + got;
      if (!spec.choices.empty()) {
        const std::string s = value.get<std::string>();
        bool found = false;
        for (const std::string& c : spec.choices) found = found || c == s;
        if (!found) {
          return where + ": " + got + " is not " + DescribeConstraint(spec) +
                 DidYouMean(s, spec.choices);
        }
      }
      *out = value;
      return "";
    case OptionType::kPath: {
      if (!value.is_string()) {
        return where + ": expected a file path (a string), got " + got;
      }
      // "" means "no file" (e.g. the text plugin's tokenizer: plain bytes); it stays empty
      // rather than resolving to the recipe's folder.
      if (value.get<std::string>().empty()) {
        *out = "";
        return "";
      }
      std::filesystem::path p(value.get<std::string>());
      if (p.is_relative()) {
        p = base_dir.empty() ? std::filesystem::absolute(p) : base_dir / p;
      }
      *out = p.lexically_normal().string();
      return "";
    }
    default:
      return where + ": unsupported option type";
  }
}

std::string CheckValue(const OptionSpec& spec, const nlohmann::json& value,
                       const std::filesystem::path& base_dir, nlohmann::json* out) {
  const std::string where = "option '" + spec.name + "'";
  if (spec.type != OptionType::kIntList && spec.type != OptionType::kFloatList) {
    return CheckScalar(spec, spec.type, value, where, base_dir, out);
  }
  if (!value.is_array()) {
    return where + ": expected a list of " +
           (spec.type == OptionType::kIntList ? "integers" : "numbers") + ", got " + value.dump();
  }
  const OptionType element =
      spec.type == OptionType::kIntList ? OptionType::kInt : OptionType::kFloat;
  nlohmann::json list = nlohmann::json::array();
  std::vector<std::string> problems;
  for (size_t i = 0; i < value.size(); ++i) {
    nlohmann::json item;
    std::string problem = CheckScalar(spec, element, value[i],
                                      where + " element " + std::to_string(i), base_dir, &item);
    if (!problem.empty()) {
      problems.push_back(std::move(problem));
    } else {
      list.push_back(std::move(item));
    }
  }
  if (!problems.empty()) return absl::StrJoin(problems, "; ");
  *out = std::move(list);
  return "";
}

}  // namespace

const char* OptionTypeName(OptionType type) {
  switch (type) {
    case OptionType::kBool:
      return "bool";
    case OptionType::kInt:
      return "int";
    case OptionType::kFloat:
      return "float";
    case OptionType::kString:
      return "string";
    case OptionType::kPath:
      return "path";
    case OptionType::kIntList:
      return "int list";
    case OptionType::kFloatList:
      return "float list";
  }
  return "unknown";
}

std::string DescribeConstraint(const OptionSpec& spec) {
  if (!spec.choices.empty()) return "one of: " + absl::StrJoin(spec.choices, ", ");
  const bool numeric = spec.type == OptionType::kInt || spec.type == OptionType::kFloat ||
                       spec.type == OptionType::kIntList || spec.type == OptionType::kFloatList;
  if (!numeric) return "";
  if (HasMin(spec) && HasMax(spec)) {
    return "in [" + FormatNumber(spec.min) + ", " + FormatNumber(spec.max) + "]";
  }
  if (HasMin(spec)) return ">= " + FormatNumber(spec.min);
  if (HasMax(spec)) return "<= " + FormatNumber(spec.max);
  return "";
}

std::vector<OptionError> CheckOptions(const OptionSchema& schema, const nlohmann::json& given,
                                      const std::filesystem::path& base_dir, Options* resolved) {
  std::vector<OptionError> errors;
  if (!given.is_null() && !given.is_object()) {
    errors.push_back(
        {"", "options must be a mapping from option name to value, got " + given.dump()});
    return errors;
  }
  std::vector<std::string> known;
  for (const OptionSpec& spec : schema) known.push_back(spec.name);
  if (given.is_object()) {
    for (const auto& [key, value] : given.items()) {
      bool found = false;
      for (const OptionSpec& spec : schema) found = found || spec.name == key;
      if (!found) {
        std::string message = "unknown option '" + key + "'" + DidYouMean(key, known);
        message += known.empty() ? "; this plugin takes no options"
                                 : "; known options: " + absl::StrJoin(known, ", ");
        errors.push_back({key, std::move(message)});
      }
    }
  }
  Options out = Options::object();
  for (const OptionSpec& spec : schema) {
    const bool present = given.is_object() && given.contains(spec.name);
    if (!present && spec.default_value.is_null()) {
      errors.push_back({spec.name, "missing required option '" + spec.name + "' (" +
                                       OptionTypeName(spec.type) + ": " + spec.doc + ")"});
      continue;
    }
    nlohmann::json value;
    std::string problem =
        CheckValue(spec, present ? given.at(spec.name) : spec.default_value, base_dir, &value);
    if (!problem.empty()) {
      errors.push_back({spec.name, std::move(problem)});
    } else {
      out[spec.name] = std::move(value);
    }
  }
  if (errors.empty() && resolved != nullptr) *resolved = std::move(out);
  return errors;
}

absl::StatusOr<Options> ValidateOptions(const OptionSchema& schema, const nlohmann::json& given,
                                        const std::string& context,
                                        const std::filesystem::path& base_dir) {
  Options resolved;
  const std::vector<OptionError> errors = CheckOptions(schema, given, base_dir, &resolved);
  if (errors.empty()) return resolved;
  std::vector<std::string> messages;
  for (const OptionError& e : errors) messages.push_back(e.message);
  return absl::InvalidArgumentError(
      absl::StrCat(context, ": ", errors.size() == 1 ? "invalid option: " : "invalid options: ",
                   absl::StrJoin(messages, "; ")));
}

absl::Status CheckSchema(const OptionSchema& schema) {
  std::vector<std::string> problems;
  std::set<std::string> seen;
  for (const OptionSpec& spec : schema) {
    if (spec.name.empty()) problems.push_back("an option has an empty name");
    if (!seen.insert(spec.name).second) problems.push_back("option '" + spec.name + "' twice");
    if (spec.min > spec.max) problems.push_back("option '" + spec.name + "' has min > max");
    if (!spec.default_value.is_null()) {
      nlohmann::json ignored;
      std::string problem = CheckValue(spec, spec.default_value, "/", &ignored);
      if (!problem.empty()) problems.push_back("default of " + problem);
    }
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError("invalid option schema: " + absl::StrJoin(problems, "; "));
}

nlohmann::json OptionSpecToJson(const OptionSpec& spec) {
  nlohmann::json j = {{"name", spec.name},
                      {"type", OptionTypeName(spec.type)},
                      {"default", spec.default_value},
                      {"required", spec.default_value.is_null()},
                      {"doc", spec.doc}};
  if (!spec.choices.empty()) j["choices"] = spec.choices;
  if (HasMin(spec)) j["min"] = spec.min;
  if (HasMax(spec)) j["max"] = spec.max;
  return j;
}

}  // namespace chorus::plugin
