#include "core/data/check.h"

#include <sys/stat.h>

#include <atomic>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"

namespace chorus::data {
namespace {

// One distinct value (file or inline content) of one modality, and the entries that use it.
struct Value {
  std::string modality;
  std::string value;
  bool is_path = false;
  std::vector<size_t> entries;
  std::optional<BadSample> problem;
};

std::string used_by(const Value& v, const Manifest& m) {
  const ManifestEntry& first = m.entries[v.entries[0]];
  if (v.entries.size() == 1) return absl::StrCat(" (line ", first.line, ")");
  return absl::StrCat(" (used by ", v.entries.size(), " lines, first line ", first.line, ")");
}

}  // namespace

absl::StatusOr<CheckReport> check_manifest(const std::string& path, const CheckOptions& options) {
  ManifestOptions mo;
  mo.schema = options.schema;
  auto manifest = read_manifest(path, mo);
  if (!manifest.ok()) return manifest.status();
  const Manifest& m = *manifest;
  CheckReport report;
  report.manifest = path;
  report.lines = static_cast<int64_t>(m.entries.size() + m.issues.size());
  for (const ManifestIssue& issue : m.issues) {
    const std::string where = absl::StrCat(issue.file, ":", issue.line);
    report.problems.push_back({BadReason::kBadLine, where, where, issue.problem});
  }

  std::vector<bool> entry_bad(m.entries.size(), false);
  std::map<std::pair<std::string, std::string>, size_t> index;  // (modality, value) -> values
  std::vector<Value> values;
  for (size_t i = 0; i < m.entries.size(); ++i) {
    const ManifestEntry& e = m.entries[i];
    ++report.lines_by_split[e.split];
    if (e.label) {
      ++report.lines_by_label[*e.label];
      if (options.num_classes && *e.label >= *options.num_classes) {
        report.problems.push_back(
            {BadReason::kLabelOutOfRange, e.id, absl::StrCat(path, ":", e.line),
             absl::StrCat("label ", *e.label, " out of range [0, ", *options.num_classes, ")")});
        entry_bad[i] = true;
      }
    }
    for (const auto& [modality, value] : e.values) {
      ++report.lines_by_modality[modality];
      const bool is_path = m.schema.modalities.at(modality) == ValueKind::kPath;
      if (!is_path && !options.decoders.count(modality)) continue;  // nothing to check
      auto [it, inserted] = index.try_emplace({modality, value}, values.size());
      if (inserted) values.push_back({modality, value, is_path, {}, {}});
      values[it->second].entries.push_back(i);
    }
  }

  // Files: exist, regular, non-empty.
  for (Value& v : values) {
    if (!v.is_path) continue;
    struct stat st;
    if (::stat(v.value.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      v.problem = BadSample{BadReason::kMissingFile, m.entries[v.entries[0]].id, v.value,
                            absl::StrCat(v.modality, ": no such file", used_by(v, m))};
    } else if (st.st_size == 0) {
      v.problem = BadSample{BadReason::kEmptyFile, m.entries[v.entries[0]].id, v.value,
                            absl::StrCat(v.modality, ": empty file", used_by(v, m))};
    } else {
      ++report.files_by_modality[v.modality];
      report.bytes_by_modality[v.modality] += st.st_size;
    }
  }

  // Decoding, where a decoder is available, on a few threads (values are independent).
  std::atomic<size_t> next{0};
  auto decode_some = [&] {
    for (size_t k; (k = next.fetch_add(1)) < values.size();) {
      Value& v = values[k];
      auto dec = options.decoders.find(v.modality);
      if (v.problem || dec == options.decoders.end()) continue;
      absl::StatusOr<Sample> s;
      try {
        s = dec->second(v.value, DecodeOptions{});
      } catch (const std::exception& e) {
        s = absl::InternalError(absl::StrCat("exception: ", e.what()));
      }
      if (!s.ok()) {
        const ManifestEntry& first = m.entries[v.entries[0]];
        v.problem = BadSample{BadReason::kDecodeError, first.id,
                              v.is_path ? v.value : absl::StrCat(path, ":", first.line),
                              absl::StrCat(v.modality, ": ", s.status().message(), used_by(v, m))};
      }
    }
  };
  if (!options.decoders.empty()) {
    std::vector<std::thread> threads;
    for (int t = 1; t < std::max(1, options.threads); ++t) threads.emplace_back(decode_some);
    decode_some();
    for (std::thread& t : threads) t.join();
  }

  for (const Value& v : values) {
    if (v.problem) {
      report.problems.push_back(*v.problem);
      for (size_t i : v.entries) entry_bad[i] = true;
    } else if (options.decoders.count(v.modality)) {
      ++report.decoded_by_modality[v.modality];
    }
  }
  for (const auto& [modality, n] : report.lines_by_modality) {
    if (!options.decoders.count(modality)) report.not_decoded.push_back(modality);
  }
  for (bool bad : entry_bad) report.good_lines += bad ? 0 : 1;
  for (const BadSample& b : report.problems) ++report.problems_by_reason[bad_reason_name(b.reason)];
  return report;
}

nlohmann::json CheckReport::to_json() const {
  nlohmann::json problems_json = nlohmann::json::array();
  for (const BadSample& b : problems) {
    problems_json.push_back({{"reason", bad_reason_name(b.reason)},
                             {"id", b.id},
                             {"where", b.where},
                             {"message", b.message}});
  }
  nlohmann::json labels = nlohmann::json::object();
  for (const auto& [label, n] : lines_by_label) labels[std::to_string(label)] = n;
  return {{"manifest", manifest},
          {"ok", ok()},
          {"lines", lines},
          {"good_lines", good_lines},
          {"problems", problems_json},
          {"problems_by_reason", problems_by_reason},
          {"lines_by_split", lines_by_split},
          {"lines_by_modality", lines_by_modality},
          {"lines_by_label", labels},
          {"files_by_modality", files_by_modality},
          {"bytes_by_modality", bytes_by_modality},
          {"decoded_by_modality", decoded_by_modality},
          {"not_decoded", not_decoded}};
}

std::string CheckReport::summary() const {
  std::ostringstream out;
  out << manifest << ": " << lines << " lines, " << good_lines << " good, " << problems.size()
      << " problems\n";
  for (const auto& [reason, n] : problems_by_reason) out << "  " << reason << ": " << n << "\n";
  out << "  splits:";
  for (const auto& [split, n] : lines_by_split)
    out << " " << (split.empty() ? "(none)" : split) << "=" << n;
  out << "\n  modalities:";
  for (const auto& [m, n] : lines_by_modality) {
    out << " " << m << "=" << n << " lines";
    if (files_by_modality.count(m)) {
      out << " (" << files_by_modality.at(m) << " files, " << bytes_by_modality.at(m) << " bytes)";
    }
  }
  out << "\n  labels:";
  for (const auto& [label, n] : lines_by_label) out << " " << label << "=" << n;
  out << "\n";
  if (!decoded_by_modality.empty()) {
    out << "  decoded:";
    for (const auto& [m, n] : decoded_by_modality) out << " " << m << "=" << n;
    out << "\n";
  }
  if (!not_decoded.empty()) {
    out << "  not decoded (no decoder available):";
    for (const std::string& m : not_decoded) out << " " << m;
    out << "\n";
  }
  return out.str();
}

}  // namespace chorus::data
