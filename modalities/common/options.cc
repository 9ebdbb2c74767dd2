#include "modalities/common/options.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace chorus::modality {
namespace {

using plugin::OptionSpec;
using plugin::OptionType;

const char* type_name(OptionType t) {
  switch (t) {
    case OptionType::kBool:
      return "a boolean";
    case OptionType::kInt:
      return "an integer";
    case OptionType::kFloat:
      return "a number";
    case OptionType::kString:
      return "a string";
    case OptionType::kPath:
      return "a path (string)";
    case OptionType::kIntList:
      return "a list of integers";
    case OptionType::kFloatList:
      return "a list of numbers";
  }
  return "?";
}

bool is_integer(const nlohmann::json& v) {
  if (v.is_number_integer()) return true;
  // YAML/JSON writers sometimes give 4.0 for 4; accept exact integers.
  return v.is_number_float() && std::isfinite(v.get<double>()) &&
         std::floor(v.get<double>()) == v.get<double>();
}

absl::Status check_number(const OptionSpec& spec, double x, const std::string& where) {
  if (!std::isfinite(x) || x < spec.min || x > spec.max) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, " = ", x, " is outside [", spec.min, ", ", spec.max, "]"));
  }
  return absl::OkStatus();
}

// Checks `v` against `spec`; returns the value normalised (4.0 -> 4 for integers).
absl::StatusOr<nlohmann::json> check(const OptionSpec& spec, const nlohmann::json& v,
                                     const std::string& where) {
  auto wrong = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat(where, " must be ", type_name(spec.type), ", got ", v.dump()));
  };
  switch (spec.type) {
    case OptionType::kBool:
      if (!v.is_boolean()) return wrong();
      return v;
    case OptionType::kInt: {
      if (!is_integer(v)) return wrong();
      const int64_t x =
          v.is_number_integer() ? v.get<int64_t>() : static_cast<int64_t>(v.get<double>());
      if (auto s = check_number(spec, static_cast<double>(x), where); !s.ok()) return s;
      return nlohmann::json(x);
    }
    case OptionType::kFloat: {
      if (!v.is_number()) return wrong();
      if (auto s = check_number(spec, v.get<double>(), where); !s.ok()) return s;
      return nlohmann::json(v.get<double>());
    }
    case OptionType::kString:
    case OptionType::kPath: {
      if (!v.is_string()) return wrong();
      const std::string s = v.get<std::string>();
      if (!spec.choices.empty()) {
        bool found = false;
        for (const std::string& c : spec.choices) found = found || c == s;
        if (!found) {
          std::string list;
          for (const std::string& c : spec.choices)
            absl::StrAppend(&list, list.empty() ? "" : ", ", c);
          return absl::InvalidArgumentError(
              absl::StrCat(where, " = \"", s, "\" is not one of: ", list));
        }
      }
      return v;
    }
    case OptionType::kIntList:
    case OptionType::kFloatList: {
      if (!v.is_array()) return wrong();
      nlohmann::json out = nlohmann::json::array();
      for (size_t i = 0; i < v.size(); ++i) {
        const std::string item = absl::StrCat(where, "[", i, "]");
        const bool ints = spec.type == OptionType::kIntList;
        if (ints ? !is_integer(v[i]) : !v[i].is_number()) return wrong();
        if (auto s = check_number(spec, v[i].get<double>(), item); !s.ok()) return s;
        out.push_back(ints ? nlohmann::json(static_cast<int64_t>(v[i].get<double>()))
                           : nlohmann::json(v[i].get<double>()));
      }
      return out;
    }
  }
  return wrong();
}

}  // namespace

absl::StatusOr<plugin::Options> resolve_options(const plugin::OptionSchema& schema,
                                                const plugin::Options& given,
                                                const std::string& what) {
  if (!given.is_null() && !given.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": options must be an object, got ", given.dump()));
  }
  plugin::Options out = given.is_null() ? nlohmann::json::object() : given;
  for (const OptionSpec& spec : schema) {
    const std::string where = absl::StrCat(what, ": option '", spec.name, "'");
    if (!out.contains(spec.name) || out[spec.name].is_null()) {
      if (spec.default_value.is_null()) {
        return absl::InvalidArgumentError(absl::StrCat(where, " is required (", spec.doc, ")"));
      }
      out[spec.name] = spec.default_value;
      continue;
    }
    auto checked = check(spec, out[spec.name], where);
    if (!checked.ok()) return checked.status();
    out[spec.name] = *checked;
  }
  return out;
}

plugin::OptionSchema merge_schemas(const plugin::OptionSchema& a, const plugin::OptionSchema& b) {
  plugin::OptionSchema out = a;
  for (const OptionSpec& spec : b) {
    bool seen = false;
    for (const OptionSpec& s : out) seen = seen || s.name == spec.name;
    if (!seen) out.push_back(spec);
  }
  return out;
}

}  // namespace chorus::modality
