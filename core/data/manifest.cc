#include "core/data/manifest.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace chorus::data {
namespace {

namespace fs = std::filesystem;

bool is_blank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

std::string type_name(const nlohmann::json& v) { return std::string(v.type_name()); }

// Fills `entry` from one parsed line; returns the problem, or "" when the line is good.
std::string read_entry(const nlohmann::json& obj, const std::string& dir,
                       const ManifestOptions& options, ManifestEntry& entry) {
  if (!obj.is_object()) return absl::StrCat("expected a JSON object, got ", type_name(obj));
  for (const auto& [key, value] : obj.items()) {
    if (key == "label") {
      if (value.is_number_unsigned() || value.is_number_integer()) {
        // Unsigned values beyond int64 wrap negative here and are then rejected as negative.
        entry.label = value.is_number_unsigned() ? static_cast<int64_t>(value.get<uint64_t>())
                                                 : value.get<int64_t>();
      } else {
        return absl::StrCat("\"label\" must be an integer, got ", type_name(value), " ",
                            value.dump());
      }
    } else if (key == "split") {
      if (!value.is_string()) {
        return absl::StrCat("\"split\" must be a string, got ", type_name(value));
      }
      entry.split = value.get<std::string>();
    } else if (key == "id") {
      if (value.is_string()) {
        entry.id = value.get<std::string>();
      } else if (value.is_number_integer() || value.is_number_unsigned()) {
        entry.id = value.dump();
      } else {
        return absl::StrCat("\"id\" must be a string or an integer, got ", type_name(value));
      }
    } else if (auto it = options.schema.modalities.find(key);
               it != options.schema.modalities.end()) {
      if (!value.is_string()) {
        return absl::StrCat("modality \"", key, "\" must be a string, got ", type_name(value));
      }
      const std::string& s = value.get_ref<const std::string&>();
      if (s.empty()) return absl::StrCat("modality \"", key, "\" is empty");
      if (it->second == ValueKind::kPath) {
        if (s.find('\0') != std::string::npos) {
          return absl::StrCat("modality \"", key, "\": path contains a NUL byte");
        }
        fs::path p(s);
        entry.values[key] = (p.is_absolute() ? p : fs::path(dir) / p).lexically_normal().string();
      } else {
        entry.values[key] = s;
      }
    } else {
      entry.extra[key] = value;
    }
  }
  if (entry.values.empty()) {
    std::string names;
    for (const auto& [name, kind] : options.schema.modalities) {
      absl::StrAppend(&names, names.empty() ? "" : ", ", name);
    }
    return absl::StrCat("no modality field (expected at least one of: ", names, ")");
  }
  if (entry.label) {
    if (*entry.label < 0) return absl::StrCat("label ", *entry.label, " is negative");
    if (options.num_classes && *entry.label >= *options.num_classes) {
      return absl::StrCat("label ", *entry.label, " out of range [0, ", *options.num_classes, ")");
    }
  }
  return "";
}

}  // namespace

std::string ManifestIssue::to_string() const {
  return absl::StrCat(file, ":", line, ": ", problem);
}

Manifest parse_manifest(std::string_view text, const std::string& path,
                        const ManifestOptions& options) {
  Manifest m;
  m.path = path;
  m.schema = options.schema;
  std::error_code ec;
  fs::path parent = fs::path(path).parent_path();
  fs::path abs = fs::absolute(parent.empty() ? fs::path(".") : parent, ec);
  m.dir = (ec ? parent : abs).lexically_normal().string();
  const std::string file_name = fs::path(path).filename().string();

  int64_t line_no = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (is_blank(line)) continue;
    ManifestEntry entry;
    entry.line = line_no;
    std::string problem;
    try {
      problem = read_entry(nlohmann::json::parse(line), m.dir, options, entry);
    } catch (const nlohmann::json::exception& e) {
      // nlohmann's message is "[json.exception.parse_error.101] parse error at line 1, column
      // 7: ..."; keep the part after the bracketed tag.
      std::string what = e.what();
      const size_t tag_end = what.find("] ");
      problem = absl::StrCat("invalid JSON: ",
                             tag_end == std::string::npos ? what : what.substr(tag_end + 2));
    }
    if (!problem.empty()) {
      m.issues.push_back({path, line_no, std::move(problem)});
      continue;
    }
    if (!options.split.empty() && entry.split != options.split) {
      ++m.lines_filtered;
      continue;
    }
    if (entry.id.empty()) entry.id = absl::StrCat(file_name, ":", line_no);
    m.entries.push_back(std::move(entry));
  }
  return m;
}

absl::StatusOr<Manifest> read_manifest(const std::string& path, const ManifestOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open manifest"));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return parse_manifest(buf.str(), path, options);
}

}  // namespace chorus::data
