#include "core/recipe/validate.h"

#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <sstream>

#include "core/recipe/scalars.h"
#include "core/recipe/yaml_reader.h"

namespace chorus::recipe {
namespace {

namespace fs = std::filesystem;

std::string quoted_list(const std::vector<std::string>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + values[i];
  return out;
}

class Validator {
 public:
  Validator(const ValidateOptions& options, Diagnostics& diags)
      : options_(options), diags_(diags) {}

  void value(Node& n, const Field& f, const std::string& path) {
    switch (f.type) {
      case Type::kStruct:
        return structure(n, f, path);
      case Type::kMap:
        return map(n, f, path);
      case Type::kList:
        return list(n, f, path);
      case Type::kAny:
        return;
      default:
        return scalar(n, f, path);
    }
  }

 private:
  void error(const Location& loc, const std::string& path, std::string message) {
    diags_.add(loc, path, std::move(message));
  }

  void expected(const Node& n, const Field& f, const std::string& path) {
    std::string what = f.type_name();
    if (f.type == Type::kStruct) what = "a mapping with keys " + quoted_list(f.field_names());
    if (f.type == Type::kMap) what = "a mapping (" + what + ")";
    if (f.type == Type::kList) what = "a list (" + what + ")";
    error(n.loc(), path, "expected " + what + ", got " + describe(n));
  }

  // Fills `f`'s default into a fresh node located "default".
  std::optional<Node> default_node(const Field& f, const std::string& path) {
    Location loc{"", 0, 0, "default of " + path};
    // Defaults are parsed once per schema field: a recipe fills in a hundred of them.
    static std::mutex mutex;
    static std::map<const Field*, std::optional<Node>> cache;
    std::optional<Node> parsed;
    {
      std::lock_guard<std::mutex> lock(mutex);
      auto it = cache.find(&f);
      if (it == cache.end()) {
        Diagnostics local;
        it = cache.emplace(&f, parse_yaml_value(f.default_yaml, Location{}, local)).first;
      }
      parsed = it->second;
    }
    if (!parsed) {
      error(loc, path, "bad schema default '" + f.default_yaml + "'");
      return std::nullopt;
    }
    relocate(*parsed, loc);
    return parsed;
  }

  static void relocate(Node& n, const Location& loc) {
    n.loc() = loc;
    for (Node& item : n.items()) relocate(item, loc);
    for (MapEntry& e : n.entries()) {
      e.key_loc = loc;
      relocate(e.value, loc);
    }
  }

  void structure(Node& n, const Field& f, const std::string& path) {
    if (n.is_null()) {
      const Location loc = n.loc();
      n = Node::map(loc);
    }
    if (!n.is_map()) return expected(n, f, path);
    for (MapEntry& e : n.entries()) {
      const std::string child_path = join_path(path, e.key);
      const Field* child = f.field(e.key);
      if (child == nullptr) {
        error(e.key_loc, child_path,
              "unknown key '" + e.key + "'" + did_you_mean(e.key, f.field_names()) +
                  "; expected one of: " + quoted_list(f.field_names()));
        continue;
      }
      if (e.value.is_null() && child->presence == Presence::kOptional) continue;
      if (e.value.is_null() && child->presence == Presence::kDefault) {
        if (auto d = default_node(*child, child_path)) e.value = std::move(*d);
      }
      if (e.value.is_null() && child->presence == Presence::kRequired &&
          child->type != Type::kStruct) {
        error(e.value.loc(), child_path, "missing value: expected " + child->type_name());
        continue;
      }
      value(e.value, *child, child_path);
    }
    // Absent keys: defaults, or a missing-key error at the section's own line.
    for (const Field& child : f.fields) {
      if (n.find(child.name) != nullptr) continue;
      const std::string child_path = join_path(path, child.name);
      if (child.presence == Presence::kRequired) {
        error(n.loc(), child_path,
              "missing required key '" + child.name + "' (" + child.type_name() + ": " + child.doc +
                  ")");
      } else if (child.presence == Presence::kDefault) {
        if (auto d = default_node(child, child_path)) {
          value(n.set(child.name, std::move(*d)), child, child_path);
        }
      }
    }
    // A null key that ended up optional-absent is removed, so later passes see it as absent.
    auto& entries = n.entries();
    for (size_t i = entries.size(); i-- > 0;) {
      const Field* child = f.field(entries[i].key);
      if (child && entries[i].value.is_null() && child->presence == Presence::kOptional) {
        entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
  }

  void map(Node& n, const Field& f, const std::string& path) {
    if (n.is_null()) {
      const Location loc = n.loc();
      n = Node::map(loc);
    }
    if (!n.is_map()) return expected(n, f, path);
    for (MapEntry& e : n.entries()) value(e.value, *f.element, join_path(path, e.key));
  }

  void list(Node& n, const Field& f, const std::string& path) {
    if (!n.is_list()) return expected(n, f, path);
    const size_t count = n.items().size();
    if (count < f.min_items || count > f.max_items) {
      std::string want = f.min_items == f.max_items
                             ? "exactly " + std::to_string(f.min_items)
                             : (count < f.min_items ? "at least " + std::to_string(f.min_items)
                                                    : "at most " + std::to_string(f.max_items));
      error(n.loc(), path,
            "expected " + want + " items, got " + std::to_string(count) + " (" + f.doc + ")");
    }
    for (size_t i = 0; i < count; ++i) {
      value(n.items()[i], *f.element, join_path(path, std::to_string(i)));
    }
  }

  void scalar(Node& n, const Field& f, const std::string& path) {
    if (!n.is_scalar()) return expected(n, f, path);
    for (const std::string& w : f.words) {
      if (!n.quoted() && n.value() == w) return;
    }
    switch (f.type) {
      case Type::kBool:
        if (!as_bool(n)) return expected(n, f, path);
        break;
      case Type::kInt: {
        const auto v = as_int(n);
        if (!v) return expected(n, f, path);
        if (!in_range(static_cast<double>(*v), n, f, path)) return;
        break;
      }
      case Type::kFloat: {
        const auto v = as_float(n);
        if (!v) return expected(n, f, path);
        if (!in_range(*v, n, f, path)) return;
        break;
      }
      case Type::kString:
        if (!f.choices.empty()) {
          bool found = false;
          for (const std::string& c : f.choices) found = found || c == n.value();
          if (!found) {
            error(n.loc(), path,
                  "expected one of " + quoted_list(f.choices) + ", got '" + n.value() + "'" +
                      did_you_mean(n.value(), f.choices));
            return;
          }
        }
        break;
      case Type::kPath: {
        if (n.value().empty()) {
          error(n.loc(), path, "expected a path, got an empty string");
          return;
        }
        const std::string resolved = resolve_path(n.value(), n.loc());
        if (f.must_exist && options_.check_files) {
          std::error_code ec;
          if (!fs::exists(resolved, ec)) {
            error(n.loc(), path, "file not found: " + resolved);
            return;
          }
        }
        n.set_value(resolved, n.quoted());
        break;
      }
      default:
        break;
    }
    if (f.check) {
      std::string problem = f.check(n);
      if (!problem.empty()) error(n.loc(), path, problem);
    }
  }

  bool in_range(double v, const Node& n, const Field& f, const std::string& path) {
    if (f.min && (f.min_exclusive ? !(v > *f.min) : !(v >= *f.min))) {
      error(n.loc(), path,
            std::string("must be ") + (f.min_exclusive ? "> " : ">= ") + format_number(*f.min) +
                ", got " + n.value());
      return false;
    }
    if (f.max && !(v <= *f.max)) {
      error(n.loc(), path, "must be <= " + format_number(*f.max) + ", got " + n.value());
      return false;
    }
    return true;
  }

  const ValidateOptions& options_;
  Diagnostics& diags_;
};

}  // namespace

std::string resolve_path(const std::string& value, const Location& loc) {
  fs::path p(value);
  if (!value.empty() && value[0] == '~') {
    if (const char* home = std::getenv("HOME"))
      p = fs::path(home) / value.substr(value.size() > 1 ? 2 : 1);
  }
  if (p.is_relative()) {
    std::error_code ec;
    const fs::path base =
        loc.from_file() ? fs::absolute(fs::path(loc.file), ec).parent_path() : fs::current_path(ec);
    p = base / p;
  }
  return p.lexically_normal().string();
}

void validate(Node& root, const Field& schema, const ValidateOptions& options, Diagnostics& diags) {
  Validator(options, diags).value(root, schema, "");
}

void validate_value(Node& value, const Field& field, const std::string& path,
                    const ValidateOptions& options, Diagnostics& diags) {
  Validator(options, diags).value(value, field, path);
}

}  // namespace chorus::recipe
