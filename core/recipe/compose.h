// `defaults:` includes: a recipe builds on other recipe files.
//
//   defaults: [base.yaml, ../shared/fmnist_data.yaml]
//
// Each listed file (a path relative to the file that lists it) is composed the same way, then
// they are merged in order (a later file wins over an earlier one) and the including file is
// merged last (it wins over all of its defaults). Merging is deep for mappings; lists and
// scalars replace. A file that includes itself, directly or through others, is an error that
// shows the whole cycle.
#pragma once

#include <optional>
#include <string>

#include "core/recipe/diagnostics.h"
#include "core/recipe/node.h"

namespace chorus::recipe {

// Reads `path` with its defaults merged in; the `defaults` key itself is removed.
std::optional<Node> compose_file(const std::string& path, Diagnostics& diags);

// Same for an already-parsed document `root` read from `file` (defaults resolve against it).
std::optional<Node> compose(Node root, const std::string& file, Diagnostics& diags);

// Deep merge of `over` into `base`: mappings merge key by key, anything else replaces.
void merge_into(Node& base, Node over);

}  // namespace chorus::recipe
