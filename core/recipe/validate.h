// Checks a recipe tree against a schema (schema.h) and normalises it in place: defaults are
// filled in (located "default"), paths become absolute (resolved against the directory of the
// file that set them, or the working directory for command-line overrides and defaults).
// Every problem is added to `diags`; validation never stops at the first one.
#pragma once

#include "core/recipe/diagnostics.h"
#include "core/recipe/node.h"
#include "core/recipe/schema.h"

namespace chorus::recipe {

struct ValidateOptions {
  // Paths declared must_exist are checked on disk. Off for tools that look at a recipe on
  // another machine, or before data preparation creates the files.
  bool check_files = true;
};

void validate(Node& root, const Field& schema, const ValidateOptions& options, Diagnostics& diags);

// Validates one value against `field` (used for subtrees added after the main pass).
void validate_value(Node& value, const Field& field, const std::string& path,
                    const ValidateOptions& options, Diagnostics& diags);

// Resolves a path scalar written at `loc` to an absolute, lexically normal path.
std::string resolve_path(const std::string& value, const Location& loc);

}  // namespace chorus::recipe
