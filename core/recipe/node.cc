#include "core/recipe/node.h"

#include <charconv>

namespace chorus::recipe {

std::string Location::str() const {
  if (!from_file()) return origin.empty() ? std::string("<unknown>") : origin;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

Node Node::null(Location loc) {
  Node n;
  n.loc_ = std::move(loc);
  return n;
}

Node Node::scalar(std::string value, Location loc, bool quoted) {
  Node n;
  n.kind_ = Kind::kScalar;
  n.value_ = std::move(value);
  n.quoted_ = quoted;
  n.loc_ = std::move(loc);
  return n;
}

Node Node::list(Location loc) {
  Node n;
  n.kind_ = Kind::kList;
  n.loc_ = std::move(loc);
  return n;
}

Node Node::map(Location loc) {
  Node n;
  n.kind_ = Kind::kMap;
  n.loc_ = std::move(loc);
  return n;
}

const MapEntry* Node::find_entry(std::string_view key) const {
  for (const MapEntry& e : entries_) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

const Node* Node::find(std::string_view key) const {
  const MapEntry* e = find_entry(key);
  return e ? &e->value : nullptr;
}

Node* Node::find(std::string_view key) {
  for (MapEntry& e : entries_) {
    if (e.key == key) return &e.value;
  }
  return nullptr;
}

Node& Node::set(std::string key, Node value, Location key_loc) {
  for (MapEntry& e : entries_) {
    if (e.key == key) {
      e.value = std::move(value);
      if (key_loc.from_file() || !key_loc.origin.empty()) e.key_loc = std::move(key_loc);
      return e.value;
    }
  }
  entries_.push_back(MapEntry{std::move(key), std::move(key_loc), std::move(value)});
  return entries_.back().value;
}

bool Node::erase(std::string_view key) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->key == key) {
      entries_.erase(it);
      return true;
    }
  }
  return false;
}

std::vector<std::string> Node::keys() const {
  std::vector<std::string> out;
  for (const MapEntry& e : entries_) out.push_back(e.key);
  return out;
}

size_t Node::size() const {
  size_t n = 1;
  for (const Node& item : items_) n += item.size();
  for (const MapEntry& e : entries_) n += e.value.size();
  return n;
}

std::vector<std::string> split_path(std::string_view dotted) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t dot = dotted.find('.', start);
    out.emplace_back(
        dotted.substr(start, dot == std::string_view::npos ? dotted.npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

std::string join_path(const std::string& parent, const std::string& child) {
  return parent.empty() ? child : parent + "." + child;
}

std::optional<size_t> parse_index(std::string_view segment) {
  if (segment.empty() || segment.size() > 9) return std::nullopt;
  size_t value = 0;
  const auto [ptr, ec] = std::from_chars(segment.data(), segment.data() + segment.size(), value);
  if (ec != std::errc() || ptr != segment.data() + segment.size()) return std::nullopt;
  return value;
}

namespace {
template <class N>
N* walk(N& root, const std::vector<std::string>& path) {
  N* node = &root;
  for (const std::string& segment : path) {
    if (node->is_map()) {
      node = node->find(segment);
    } else if (node->is_list()) {
      const auto index = parse_index(segment);
      if (!index || *index >= node->items().size()) return nullptr;
      node = &node->items()[*index];
    } else {
      return nullptr;
    }
    if (node == nullptr) return nullptr;
  }
  return node;
}
}  // namespace

const Node* lookup(const Node& root, const std::vector<std::string>& path) {
  return walk(root, path);
}
Node* lookup(Node& root, const std::vector<std::string>& path) { return walk(root, path); }

}  // namespace chorus::recipe
