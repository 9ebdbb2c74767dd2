#include "core/recipe/compose.h"

#include <filesystem>
#include <vector>

#include "core/recipe/yaml_reader.h"

namespace chorus::recipe {
namespace {

namespace fs = std::filesystem;

std::string identity(const std::string& path) {
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(path, ec);
  return ec ? fs::path(path).lexically_normal().string() : canonical.string();
}

class Composer {
 public:
  explicit Composer(Diagnostics& diags) : diags_(diags) {}

  std::optional<Node> file(const std::string& path, const Location& from) {
    const std::string id = identity(path);
    for (size_t i = 0; i < stack_.size(); ++i) {
      if (stack_[i].id != id) continue;
      std::string cycle;
      for (size_t j = i; j < stack_.size(); ++j) cycle += stack_[j].shown + " -> ";
      diags_.add(from, "defaults", "defaults cycle: " + cycle + path);
      return std::nullopt;
    }
    auto root = read_yaml_file(path, diags_, from);
    if (!root) return std::nullopt;
    return entered(std::move(*root), path);
  }

  // Composes a document read from `path`, with `path` on the include stack.
  std::optional<Node> entered(Node root, const std::string& path) {
    stack_.push_back({identity(path), path});
    auto composed = document(std::move(root), path);
    stack_.pop_back();
    return composed;
  }

  std::optional<Node> document(Node root, const std::string& path) {
    const MapEntry* entry = root.find_entry("defaults");
    if (entry == nullptr) return root;
    Node defaults = entry->value;
    root.erase("defaults");
    std::vector<Node> names;
    if (defaults.is_scalar()) {
      names.push_back(defaults);
    } else if (defaults.is_list()) {
      names = defaults.items();
    } else if (!defaults.is_null()) {
      diags_.add(defaults.loc(), "defaults", "expected a list of recipe files");
      return std::nullopt;
    }
    const fs::path dir = fs::path(path).parent_path();
    Node merged = Node::map(root.loc());
    bool ok = true;
    for (const Node& name : names) {
      if (!name.is_scalar() || name.value().empty()) {
        diags_.add(name.loc(), "defaults", "expected a recipe file name");
        ok = false;
        continue;
      }
      const fs::path target = fs::path(name.value()).is_absolute()
                                  ? fs::path(name.value())
                                  : (dir / name.value()).lexically_normal();
      auto included = file(target.string(), name.loc());
      if (!included) {
        ok = false;
        continue;
      }
      merge_into(merged, std::move(*included));
    }
    if (!ok) return std::nullopt;
    merge_into(merged, std::move(root));
    return merged;
  }

 private:
  struct Frame {
    std::string id, shown;
  };
  Diagnostics& diags_;
  std::vector<Frame> stack_;
};

}  // namespace

void merge_into(Node& base, Node over) {
  if (!base.is_map() || !over.is_map()) {
    base = std::move(over);
    return;
  }
  base.loc() = over.loc();
  for (MapEntry& e : over.entries()) {
    if (Node* existing = base.find(e.key)) {
      merge_into(*existing, std::move(e.value));
    } else {
      base.set(e.key, std::move(e.value), e.key_loc);
    }
  }
}

std::optional<Node> compose_file(const std::string& path, Diagnostics& diags) {
  return Composer(diags).file(path, Location{});
}

std::optional<Node> compose(Node root, const std::string& file, Diagnostics& diags) {
  return Composer(diags).entered(std::move(root), file);
}

}  // namespace chorus::recipe
