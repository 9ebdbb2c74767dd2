#include "core/recipe/diagnostics.h"

#include <algorithm>
#include <tuple>

namespace chorus::recipe {

std::string Diagnostic::str() const {
  std::string out = loc.str() + ": ";
  if (!path.empty()) out += path + ": ";
  return out + message;
}

void Diagnostics::add(Location loc, std::string path, std::string message) {
  list_.push_back(Diagnostic{std::move(loc), std::move(path), std::move(message)});
}

std::string Diagnostics::str() const {
  std::vector<Diagnostic> sorted = list_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic& a, const Diagnostic& b) {
    // Command-line problems (line 0) after the file's own, files in name order.
    return std::make_tuple(!a.loc.from_file(), a.loc.file, a.loc.line, a.loc.column) <
           std::make_tuple(!b.loc.from_file(), b.loc.file, b.loc.line, b.loc.column);
  });
  std::string out;
  for (const Diagnostic& d : sorted) out += d.str() + "\n";
  if (sorted.size() > 1) out += std::to_string(sorted.size()) + " errors\n";
  return out;
}

absl::Status Diagnostics::status() const {
  if (list_.empty()) return absl::OkStatus();
  std::string text = str();
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return absl::InvalidArgumentError(text);
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string closest(std::string_view word, const std::vector<std::string>& candidates) {
  // A typo changes a few characters; beyond a third of the word it is another word.
  const size_t limit = std::max<size_t>(2, word.size() / 3);
  std::string best;
  size_t best_distance = limit + 1;
  for (const std::string& c : candidates) {
    const size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  const std::string best = closest(word, candidates);
  return best.empty() ? std::string() : " (did you mean '" + best + "'?)";
}

}  // namespace chorus::recipe
