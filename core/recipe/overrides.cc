#include "core/recipe/overrides.h"

#include "core/recipe/yaml_reader.h"

namespace chorus::recipe {
namespace {

enum class Op { kSet, kAdd, kRemove };

struct Override {
  Op op = Op::kSet;
  std::vector<std::string> path;
  std::string value;
  Location loc;
};

// The keys a user could have meant at `parent`: those present plus those the schema declares.
std::vector<std::string> candidates(const Node& parent, const Field* schema) {
  std::vector<std::string> out = parent.is_map() ? parent.keys() : std::vector<std::string>{};
  if (schema && schema->type == Type::kStruct) {
    for (const std::string& name : schema->field_names()) out.push_back(name);
  }
  return out;
}

class Applier {
 public:
  Applier(Node& root, const Field& schema, Diagnostics& diags)
      : root_(root), schema_(schema), diags_(diags) {}

  void apply(const std::string& text) {
    Override o;
    o.loc = Location{"", 0, 0, "override '" + text + "'"};
    std::string key = text;
    if (!key.empty() && (key[0] == '+' || key[0] == '~')) {
      o.op = key[0] == '+' ? Op::kAdd : Op::kRemove;
      key.erase(0, 1);
    }
    const size_t eq = key.find('=');
    if (eq == std::string::npos && o.op != Op::kRemove) {
      return error(o, "expected key=value, +key=value or ~key");
    }
    if (eq != std::string::npos) {
      o.value = key.substr(eq + 1);
      key = key.substr(0, eq);
    }
    o.path = split_path(key);
    for (const std::string& segment : o.path) {
      if (segment.empty()) return error(o, "empty key segment in '" + key + "'");
    }
    if (o.op == Op::kRemove) return remove(o);
    Diagnostics parse;
    auto value = parse_yaml_value(o.value, o.loc, parse);
    if (!value) return error(o, "value is not valid YAML: " + parse.list().front().message);
    set(o, std::move(*value));
  }

 private:
  void error(const Override& o, std::string message) { diags_.add(o.loc, "", std::move(message)); }

  std::string dotted(const std::vector<std::string>& path, size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out = join_path(out, path[i]);
    return out;
  }

  void remove(const Override& o) {
    Node* parent = lookup(root_, {o.path.begin(), o.path.end() - 1});
    const std::string& last = o.path.back();
    const std::string key = dotted(o.path, o.path.size());
    if (parent != nullptr && parent->is_map() && parent->erase(last)) return;
    if (parent != nullptr && parent->is_list()) {
      if (auto index = parse_index(last); index && *index < parent->items().size()) {
        parent->items().erase(parent->items().begin() + static_cast<std::ptrdiff_t>(*index));
        return;
      }
    }
    error(o, "cannot remove '" + key + "': not in the recipe" + hint(o.path));
  }

  void set(const Override& o, Node value) {
    const std::string key = dotted(o.path, o.path.size());
    Node* existing = lookup(root_, o.path);
    if (o.op == Op::kAdd && existing != nullptr) {
      return error(o, "'" + key + "' is already in the recipe; use '" + key + "=...' to change it");
    }
    if (o.op == Op::kSet && existing == nullptr && !declared_by_schema(o.path)) {
      return error(o, "'" + key + "' is not in the recipe" + hint(o.path) + "; use '+" + key +
                          "=...' to add a new key");
    }
    if (existing != nullptr) {
      *existing = std::move(value);
      return;
    }
    // Create missing parents as mappings; a list parent takes an index within or at its end.
    Node* n = &root_;
    for (size_t i = 0; i < o.path.size(); ++i) {
      const std::string& segment = o.path[i];
      const bool last = i + 1 == o.path.size();
      if (n->is_null()) *n = Node::map(o.loc);
      if (n->is_list()) {
        auto index = parse_index(segment);
        if (!index || *index > n->items().size()) {
          return error(o, "'" + dotted(o.path, i + 1) + "': index out of range (the list has " +
                              std::to_string(n->items().size()) + " items)");
        }
        if (*index == n->items().size()) n->items().push_back(Node::map(o.loc));
        n = &n->items()[*index];
      } else if (n->is_map()) {
        Node* next = n->find(segment);
        if (next == nullptr) next = &n->set(segment, last ? Node() : Node::map(o.loc), o.loc);
        n = next;
      } else {
        return error(o, "'" + dotted(o.path, i) + "' is a value, not a mapping or list");
      }
      if (last) *n = std::move(value);
    }
  }

  // A set on an absent key is fine when the schema declares it (e.g. run.seed), not below
  // free-form maps like plugin options where only + can add keys.
  bool declared_by_schema(const std::vector<std::string>& path) {
    const Field* f = schema_at(schema_, path);
    if (f == nullptr) return false;
    const Field* parent = schema_at(schema_, {path.begin(), path.end() - 1});
    return parent != nullptr && parent->type == Type::kStruct;
  }

  std::string hint(const std::vector<std::string>& path) {
    const Node* parent = lookup(root_, {path.begin(), path.end() - 1});
    if (parent == nullptr) return "";
    const Field* schema = schema_at(schema_, {path.begin(), path.end() - 1});
    return did_you_mean(path.back(), candidates(*parent, schema));
  }

  Node& root_;
  const Field& schema_;
  Diagnostics& diags_;
};

}  // namespace

void apply_overrides(Node& root, const std::vector<std::string>& overrides, const Field& schema,
                     Diagnostics& diags) {
  Applier applier(root, schema, diags);
  for (const std::string& o : overrides) applier.apply(o);
}

}  // namespace chorus::recipe
