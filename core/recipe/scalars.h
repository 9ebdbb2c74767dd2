// Typed readings of plain YAML scalars, shared by validation, plugin options and the typed
// config. YAML 1.2 core schema, strictly: true/false (not yes/no), decimal integers, decimal or
// exponent floats. Quoted scalars are strings whatever they contain.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/recipe/node.h"

namespace chorus::recipe {

std::optional<bool> as_bool(const Node& n);
std::optional<int64_t> as_int(const Node& n);
std::optional<double> as_float(const Node& n);  // integers too; finite values only

// "integer 12", "string \"abc\"", "a list", "a mapping", "nothing": what a node is, for messages.
std::string describe(const Node& n);

// A number as messages and docs print it (shortest form of `ostream <<`: 0.5, 1e-08, 100).
std::string format_number(double v);

}  // namespace chorus::recipe
