// libFuzzer target: the JSONL manifest parser (core/data/manifest.cc) on arbitrary bytes.
// Properties checked beyond "no crash": every line yields an entry or an issue (never both,
// never neither for a non-blank line), issues name the file and a line that exists, and every
// path modality resolves to an absolute path.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/data/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  chorus::data::ManifestOptions options;
  options.num_classes = 10;
  const chorus::data::Manifest m = chorus::data::parse_manifest(text, "/fuzz/m.jsonl", options);
  int64_t lines = 0, blank = 0;
  {
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      ++lines;
      bool is_blank = true;
      for (char c : text.substr(start, end - start))
        is_blank &= (c == ' ' || c == '\t' || c == '\r');
      blank += is_blank;
      start = end + 1;
    }
  }
  if (static_cast<int64_t>(m.entries.size() + m.issues.size()) != lines - blank) std::abort();
  for (const auto& issue : m.issues) {
    if (issue.file != "/fuzz/m.jsonl" || issue.line < 1 || issue.line > lines ||
        issue.problem.empty()) {
      std::abort();
    }
  }
  for (const auto& e : m.entries) {
    if (e.values.empty() || (e.label && (*e.label < 0 || *e.label >= 10))) std::abort();
    for (const auto& [modality, value] : e.values) {
      if (options.schema.modalities.at(modality) == chorus::data::ValueKind::kPath &&
          value.front() != '/') {
        std::abort();
      }
    }
  }
  return 0;
}
