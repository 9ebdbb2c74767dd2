// YAML text -> recipe tree (core/recipe/node.h), with every problem reported by file and line.
//
// Beyond what yaml-cpp rejects, the reader also refuses what YAML accepts but a recipe never
// means: tabs in indentation (reported before yaml-cpp's less helpful message), a key given twice
// in one mapping (yaml-cpp silently keeps one), complex keys, several documents in one file, and
// documents nested absurdly deep or expanding to millions of nodes through aliases.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/recipe/diagnostics.h"
#include "core/recipe/node.h"

namespace chorus::recipe {

// Parses `text` (named `file` in messages). nullopt after adding at least one diagnostic.
std::optional<Node> parse_yaml(std::string_view text, const std::string& file, Diagnostics& diags);

// Reads and parses a file; a missing or unreadable file is reported at `from` (e.g. the line of
// the `defaults:` entry that names it).
std::optional<Node> read_yaml_file(const std::string& path, Diagnostics& diags,
                                   const Location& from = {});

// Parses a command-line value ("100", "[a.jsonl, b.jsonl]", "{lr: 1e-3}") as a YAML scalar or
// flow collection; nodes are located at `loc`.
std::optional<Node> parse_yaml_value(std::string_view text, const Location& loc,
                                     Diagnostics& diags);

}  // namespace chorus::recipe
