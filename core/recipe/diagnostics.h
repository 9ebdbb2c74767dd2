// Recipe errors: every problem found in a recipe, each with the place to fix it.
//
// Loading never stops at the first problem of a kind that lets it go on: validation collects
// all of them so that a user fixes a recipe in one round trip. A Diagnostic prints as
//   recipes/quickstart.yaml:12:7: stages.0.optimizer.lr: must be > 0, got -0.001
// where the key path uses the same dotted form as command-line overrides.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "core/recipe/node.h"

namespace chorus::recipe {

struct Diagnostic {
  Location loc;
  std::string path;  // dotted key path, empty when the problem is not about one key
  std::string message;

  std::string str() const;
};

class Diagnostics {
 public:
  void add(Location loc, std::string path, std::string message);
  bool empty() const { return list_.empty(); }
  size_t size() const { return list_.size(); }
  const std::vector<Diagnostic>& list() const { return list_; }
  // Sorted by file and line, one per line, followed by a count.
  std::string str() const;
  // InvalidArgument carrying str(); OK when empty.
  absl::Status status() const;

 private:
  std::vector<Diagnostic> list_;
};

// Levenshtein distance, for "did you mean" suggestions.
size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `word` when it is close enough to be a likely typo, else "".
std::string closest(std::string_view word, const std::vector<std::string>& candidates);
// " (did you mean 'x'?)" or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace chorus::recipe
