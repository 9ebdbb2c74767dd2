#include "tools/chorus/text_corpus.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"

namespace chorus::cli {

absl::StatusOr<std::string> load_fortunes_corpus(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(
        absl::StrCat(dir, ": no such directory (is the Debian package `fortunes` installed?)"));
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const fs::path& p = entry.path();
    if (!entry.is_regular_file() || p.has_extension()) continue;  // skips .dat and .u8 links
    files.push_back(p);
  }
  std::sort(files.begin(), files.end());
  std::string corpus;
  for (const fs::path& p : files) {
    std::ifstream in(p, std::ios::binary);
    std::string line;
    while (std::getline(in, line)) {
      corpus += line == "%" ? "\n" : line + "\n";
    }
  }
  if (corpus.size() < 100000) {
    return absl::DataLossError(absl::StrCat(dir, ": only ", corpus.size(),
                                            " bytes of text found; expected the full collection"));
  }
  return corpus;
}

}  // namespace chorus::cli
