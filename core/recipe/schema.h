// Declarative recipe schema: what keys exist, their types, defaults, ranges and documentation.
//
// One declaration (engine_schema(), in schema_def.cc) drives validation (validate.h), the typed
// config (config.h reads only keys declared there), `+key`/`key=` override checks, and the
// printed reference (`chorus recipe schema`, docs/recipes.md), so they cannot drift apart.
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/recipe/node.h"

namespace chorus::recipe {

enum class Type {
  kBool,
  kInt,
  kFloat,
  kString,
  kPath,    // resolved against the file that set it; `words` are kept as they are
  kList,    // of `element`
  kMap,     // user-chosen keys -> `element`
  kStruct,  // fixed keys: `fields`
  kAny,     // not checked here (plugin options: checked against the plugin's own schema)
};

enum class Presence {
  kOptional,  // absent stays absent
  kRequired,  // absent is an error
  kDefault,   // absent (or null) takes `default_yaml`
};

struct Field {
  std::string name;
  Type type = Type::kString;
  std::string doc;
  Presence presence = Presence::kOptional;
  std::string default_yaml;  // YAML text of the default value
  std::optional<double> min, max;
  bool min_exclusive = false;
  std::vector<std::string> choices;  // kString: the allowed values
  std::vector<std::string> words;    // kFloat/kInt/kPath: literal words allowed besides numbers
  std::shared_ptr<const Field> element;
  std::vector<Field> fields;
  size_t min_items = 0, max_items = std::numeric_limits<size_t>::max();
  bool must_exist = false;  // kPath: the file or directory must exist (when files are checked)
  std::string shown_type;   // how the reference prints the type, when not derived
  // Extra check of a present, well-typed scalar; returns an error message or "".
  std::function<std::string(const Node&)> check;

  // Modifiers, for declarations that read like a table.
  Field def(std::string yaml) &&;
  Field req() &&;
  Field range(double lo, double hi) &&;
  Field at_least(double lo) &&;
  Field above(double lo) &&;  // exclusive
  Field one_of(std::vector<std::string> values) &&;
  Field or_words(std::vector<std::string> values) &&;
  Field items(size_t lo, size_t hi) &&;
  Field exists() &&;
  Field shown(std::string type) &&;
  Field checked(std::function<std::string(const Node&)> fn) &&;

  const Field* field(const std::string& key) const;  // kStruct member or nullptr
  std::vector<std::string> field_names() const;
  std::string type_name() const;  // "int", "list of path", "cosine | linear | constant", ...
};

Field Bool(std::string name, std::string doc);
Field Int(std::string name, std::string doc);
Field Float(std::string name, std::string doc);
Field Str(std::string name, std::string doc);
Field Path(std::string name, std::string doc);
Field List(std::string name, Field element, std::string doc);
Field Map(std::string name, Field element, std::string doc);
Field Struct(std::string name, std::string doc, std::vector<Field> fields);
Field Any(std::string name, std::string doc);

// The schema of every engine section (a kStruct whose fields are the top-level sections).
const Field& engine_schema();

// The schema entry for a dotted key path (list indices and map keys walk into `element`);
// nullptr when the schema does not declare it. kAny swallows everything below it.
const Field* schema_at(const Field& root, const std::vector<std::string>& path);

// The reference, one row per key: Markdown tables (docs/recipes.md) or aligned plain text.
std::string schema_markdown(const Field& root);
std::string schema_text(const Field& root);

}  // namespace chorus::recipe
