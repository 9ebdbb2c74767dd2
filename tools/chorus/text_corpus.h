// A byte-level English corpus from Debian's `fortunes` package (the fortune-cookie
// collection: quotations, literature, jokes; about 2.5 MB of text), for `chorus lm`.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace chorus::cli {

inline constexpr const char* kFortunesDir = "/usr/share/games/fortunes";

// Concatenates every text file of the collection in `dir` (sorted by name, skipping the
// binary .dat indexes and the offensive subfolder), with the "%" separators between entries
// replaced by blank lines.
absl::StatusOr<std::string> load_fortunes_corpus(const std::string& dir);

}  // namespace chorus::cli
