#include "core/recipe/interpolate.h"

#include <cstdlib>
#include <map>

namespace chorus::recipe {
namespace {

enum class State { kInProgress, kDone };

// References can double a recipe's size at each level; bound what they may build.
constexpr size_t kMaxCopiedNodes = 100000;
constexpr size_t kMaxBytes = size_t{4} << 20;  // text produced by all references together

size_t text_size(const Node& n) {
  size_t bytes = n.value().size();
  for (const Node& item : n.items()) bytes += text_size(item);
  for (const MapEntry& e : n.entries()) bytes += e.key.size() + text_size(e.value);
  return bytes;
}

class Interpolator {
 public:
  Interpolator(Node& root, Diagnostics& diags) : root_(root), diags_(diags) {}

  void subtree(const std::string& path) {
    Node* n = path.empty() ? &root_ : lookup(root_, split_path(path));
    if (n == nullptr) return;
    if (n->is_scalar()) return scalar(path);
    // Children are looked up again by path: resolving one may replace nodes elsewhere.
    std::vector<std::string> children;
    if (n->is_map()) {
      for (const MapEntry& e : n->entries()) {
        // Paths are dotted: an empty key or one holding '.' would name another node (an empty
        // key under the root names the root itself), so it cannot be addressed at all.
        if (e.key.empty() || e.key.find('.') != std::string::npos) {
          return fail(e.value, path,
                      "key '" + e.key + "'" + (path.empty() ? "" : " under '" + path + "'") +
                          " cannot be used: recipe keys must be non-empty and contain no '.'");
        }
        children.push_back(join_path(path, e.key));
      }
    } else if (n->is_list()) {
      for (size_t i = 0; i < n->items().size(); ++i) {
        children.push_back(join_path(path, std::to_string(i)));
      }
    }
    for (const std::string& child : children) {
      if (failed_) return;
      subtree(child);
    }
  }

 private:
  void scalar(const std::string& path) {
    auto it = state_.find(path);
    if (it != state_.end()) {
      if (it->second == State::kDone) return;
      std::string cycle;
      bool in = false;
      for (const std::string& p : stack_) {
        in = in || p == path;
        if (in) cycle += p + " -> ";
      }
      Node* n = lookup(root_, split_path(path));
      diags_.add(n ? n->loc() : Location{}, path, "interpolation cycle: " + cycle + path);
      failed_ = true;
      return;
    }
    Node* n = lookup(root_, split_path(path));
    if (n == nullptr || !n->is_scalar() || n->value().find("${") == std::string::npos) {
      state_[path] = State::kDone;
      return;
    }
    state_[path] = State::kInProgress;
    stack_.push_back(path);
    resolve(path);
    stack_.pop_back();
    state_[path] = State::kDone;
  }

  void resolve(const std::string& path) {
    const Node original = *lookup(root_, split_path(path));
    const std::string& text = original.value();
    std::string out;
    bool plain = !original.quoted();
    size_t i = 0;
    while (i < text.size()) {
      if (text.compare(i, 3, "\\${") == 0) {
        out += "${";
        i += 3;
        continue;
      }
      if (text.compare(i, 2, "${") != 0) {
        out += text[i++];
        continue;
      }
      const size_t close = text.find('}', i + 2);
      if (close == std::string::npos) {
        return fail(original, path, "unterminated '${' in '" + text + "'");
      }
      const std::string ref = text.substr(i + 2, close - i - 2);
      const bool whole = i == 0 && close == text.size() - 1;
      if (ref.rfind("env:", 0) == 0) {
        auto value = env(ref.substr(4), original, path);
        if (!value) return;
        out += *value;
        // A value that is one ${env:...} is typed by the schema like any plain value, even when
        // quoted (quotes are often needed around ${...} inside flow mappings).
        if (whole) plain = true;
      } else {
        const Node* target = reference(ref, original, path);
        if (target == nullptr) return;
        if (whole) {
          // The whole value is one reference: take the node itself (keeps lists, maps, types),
          // but keep the referencing line so later errors point at what the user wrote here.
          copied_ += target->size();
          bytes_ += text_size(*target);
          if (copied_ > kMaxCopiedNodes || bytes_ > kMaxBytes) {
            return fail(original, path,
                        "interpolation expands the recipe beyond " +
                            std::to_string(kMaxCopiedNodes) + " nodes or " +
                            std::to_string(kMaxBytes >> 20) + " MiB");
          }
          Node copy = *target;
          if (copy.is_scalar() || copy.is_null()) copy.loc() = original.loc();
          *lookup(root_, split_path(path)) = std::move(copy);
          return;
        }
        if (!target->is_scalar()) {
          return fail(original, path,
                      "'${" + ref + "}' is a list or mapping and cannot be part of a string");
        }
        out += target->value();
        bytes_ += target->value().size();
        if (bytes_ > kMaxBytes) {
          return fail(original, path,
                      "interpolation expands the recipe beyond " + std::to_string(kMaxBytes >> 20) +
                          " MiB of text");
        }
        plain = plain && !target->quoted();
      }
      i = close + 1;
    }
    lookup(root_, split_path(path))->set_value(out, !plain);
  }

  std::optional<std::string> env(const std::string& spec, const Node& at, const std::string& path) {
    const size_t comma = spec.find(',');
    const std::string name = spec.substr(0, comma);
    if (name.empty()) {
      fail(at, path, "'${env:}' names no variable");
      return std::nullopt;
    }
    if (const char* value = std::getenv(name.c_str())) return std::string(value);
    if (comma != std::string::npos) return spec.substr(comma + 1);
    fail(at, path,
         "environment variable " + name + " is not set (write ${env:" + name +
             ",default} to give a default)");
    return std::nullopt;
  }

  const Node* reference(const std::string& ref, const Node& at, const std::string& path) {
    const std::vector<std::string> segments = split_path(ref);
    // Walk segment by segment to name the first missing one and suggest a sibling key.
    const Node* n = &root_;
    std::string walked;
    for (const std::string& segment : segments) {
      const Node* next = nullptr;
      if (n->is_map()) {
        next = n->find(segment);
      } else if (n->is_list()) {
        if (auto index = parse_index(segment); index && *index < n->items().size()) {
          next = &n->items()[*index];
        }
      }
      if (next == nullptr) {
        const std::string hint = n->is_map() ? did_you_mean(segment, n->keys()) : "";
        fail(at, path,
             "'${" + ref + "}' refers to '" + join_path(walked, segment) +
                 "', which is not in the recipe" + hint);
        return nullptr;
      }
      walked = join_path(walked, segment);
      n = next;
    }
    subtree(ref);  // the target may interpolate too
    if (failed_) return nullptr;
    return lookup(root_, segments);
  }

  void fail(const Node& at, const std::string& path, std::string message) {
    diags_.add(at.loc(), path, std::move(message));
    failed_ = true;
  }

  Node& root_;
  Diagnostics& diags_;
  std::map<std::string, State> state_;
  std::vector<std::string> stack_;
  size_t copied_ = 0, bytes_ = 0;
  bool failed_ = false;
};

}  // namespace

void interpolate(Node& root, Diagnostics& diags) { Interpolator(root, diags).subtree(""); }

}  // namespace chorus::recipe
