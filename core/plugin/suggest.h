// "Did you mean ...?" for names a user typed: option names, plugin names.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace chorus::plugin {

// Levenshtein distance (insertions, deletions, substitutions each cost 1).
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `typed`, or "" when none is close enough to be a plausible typo
// (distance at most a third of the longer name, and at least 1 for short names).
std::string ClosestName(std::string_view typed, const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" or "" when ClosestName finds nothing.
std::string DidYouMean(std::string_view typed, const std::vector<std::string>& candidates);

}  // namespace chorus::plugin
