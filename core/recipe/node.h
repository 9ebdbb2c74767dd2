// The recipe tree: a YAML document as plain values that remember where they came from.
//
// yaml-cpp's own nodes share storage between copies and lose track of their file once merged
// with nodes of another file, so the recipe engine converts every document into this tree at
// load time. Each node keeps its source location (file, line, column), which every later step
// (defaults merging, overrides, interpolation, validation) carries along so that an error can
// always point at the line a user has to edit.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::recipe {

// Where a node was written. line/column are 1-based; line 0 means "not from a file": the
// `origin` then says what set it (a command-line override, a schema default, interpolation).
struct Location {
  std::string file;
  int line = 0;
  int column = 0;
  std::string origin;  // non-empty for nodes not read from a file, e.g. "override 'a.b=1'"

  bool from_file() const { return line > 0; }
  std::string str() const;  // "file:line:col" or the origin
};

struct MapEntry;

class Node {
 public:
  enum class Kind { kNull, kScalar, kList, kMap };

  Node() = default;
  static Node null(Location loc = {});
  static Node scalar(std::string value, Location loc = {}, bool quoted = false);
  static Node list(Location loc = {});
  static Node map(Location loc = {});

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_scalar() const { return kind_ == Kind::kScalar; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_map() const { return kind_ == Kind::kMap; }
  const Location& loc() const { return loc_; }
  Location& loc() { return loc_; }

  // Scalars. `quoted` scalars ("42", '1e3') are strings whatever their text looks like.
  const std::string& value() const { return value_; }
  bool quoted() const { return quoted_; }
  void set_value(std::string v, bool quoted) {
    value_ = std::move(v);
    quoted_ = quoted;
  }

  // Lists.
  const std::vector<Node>& items() const { return items_; }
  std::vector<Node>& items() { return items_; }

  // Maps keep the order of the file (the printed recipe reads like the written one).
  const std::vector<MapEntry>& entries() const { return entries_; }
  std::vector<MapEntry>& entries() { return entries_; }
  const Node* find(std::string_view key) const;
  Node* find(std::string_view key);
  const MapEntry* find_entry(std::string_view key) const;
  // Sets key (replacing an existing value in place, else appending).
  Node& set(std::string key, Node value, Location key_loc = {});
  bool erase(std::string_view key);
  std::vector<std::string> keys() const;

  // Total node count of this subtree (guards against alias bombs).
  size_t size() const;

 private:
  Kind kind_ = Kind::kNull;
  std::string value_;
  bool quoted_ = false;
  std::vector<Node> items_;
  std::vector<MapEntry> entries_;
  Location loc_;
};

struct MapEntry {
  std::string key;
  Location key_loc;
  Node value;
};

// A dotted key path as users write it ("stages.0.optimizer.lr"): map keys and list indices.
std::vector<std::string> split_path(std::string_view dotted);
std::string join_path(const std::string& parent, const std::string& child);

// Walks a dotted path; nullptr when any segment is missing (or indexes a non-list).
const Node* lookup(const Node& root, const std::vector<std::string>& path);
Node* lookup(Node& root, const std::vector<std::string>& path);

// Parses a list index segment ("0", "12"); nullopt for anything else.
std::optional<size_t> parse_index(std::string_view segment);

}  // namespace chorus::recipe
