// The printed schema reference (`chorus recipe schema`, docs/recipes.md), walked from the same
// declaration that validation uses.
#include <cmath>
#include <sstream>

#include "core/recipe/scalars.h"
#include "core/recipe/schema.h"

namespace chorus::recipe {
namespace {

struct Row {
  std::string key, type, default_value, doc;
};

std::string constraint(const Field& f) {
  std::string lo, hi;
  if (f.min) lo = (f.min_exclusive ? "> " : ">= ") + format_number(*f.min);
  if (f.max) hi = "<= " + format_number(*f.max);
  std::string out = lo.empty() ? hi : (hi.empty() ? lo : lo + ", " + hi);
  if (f.type == Type::kList && (f.min_items > 0 || f.max_items != static_cast<size_t>(-1))) {
    std::string n = f.min_items == f.max_items ? "exactly " + std::to_string(f.min_items)
                                               : "at least " + std::to_string(f.min_items);
    out += (out.empty() ? "" : ", ") + n + " items";
  }
  if (f.must_exist) out += (out.empty() ? "" : ", ") + std::string("must exist");
  return out;
}

std::string default_of(const Field& f) {
  switch (f.presence) {
    case Presence::kRequired:
      return "required";
    case Presence::kDefault:
      return f.type == Type::kStruct ? "" : f.default_yaml;
    case Presence::kOptional:
      return "";
  }
  return "";
}

void collect(const Field& f, const std::string& key, std::vector<Row>& rows) {
  std::string doc = f.doc;
  const std::string c = constraint(f);
  if (!c.empty()) doc += " (" + c + ")";
  if (f.type == Type::kStruct) {
    if (!key.empty()) rows.push_back({key, "section", default_of(f), doc});
    for (const Field& child : f.fields)
      collect(child, key.empty() ? child.name : key + "." + child.name, rows);
    return;
  }
  if ((f.type == Type::kList || f.type == Type::kMap) && f.element->type == Type::kStruct) {
    const std::string inner = f.type == Type::kList ? key + "[]" : key + ".<name>";
    rows.push_back({key, f.type == Type::kList ? "list of sections" : "map: name -> section",
                    default_of(f), doc});
    for (const Field& child : f.element->fields) collect(child, inner + "." + child.name, rows);
    return;
  }
  rows.push_back({key, f.type_name(), default_of(f), doc});
}

std::vector<std::pair<const Field*, std::vector<Row>>> sections(const Field& root) {
  std::vector<std::pair<const Field*, std::vector<Row>>> out;
  for (const Field& section : root.fields) {
    std::vector<Row> rows;
    collect(section, section.name, rows);
    out.emplace_back(&section, std::move(rows));
  }
  return out;
}

std::string escape_cell(std::string s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

}  // namespace

std::string schema_markdown(const Field& root) {
  std::ostringstream out;
  for (const auto& [section, rows] : sections(root)) {
    out << "### `" << section->name << "`\n\n" << section->doc << "\n\n";
    out << "| key | type | default | description |\n|---|---|---|---|\n";
    for (const Row& r : rows) {
      out << "| `" << r.key << "` | " << escape_cell(r.type) << " | "
          << (r.default_value.empty() ? "" : "`" + escape_cell(r.default_value) + "`") << " | "
          << escape_cell(r.doc) << " |\n";
    }
    out << "\n";
  }
  return out.str();
}

std::string schema_text(const Field& root) {
  std::ostringstream out;
  for (const auto& [section, rows] : sections(root)) {
    out << section->name << ": " << section->doc << "\n";
    for (const Row& r : rows) {
      out << "  " << r.key << "  (" << r.type;
      if (!r.default_value.empty()) {
        out << (r.default_value == "required" ? ", required" : ", default " + r.default_value);
      }
      out << ")\n      " << r.doc << "\n";
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace chorus::recipe
