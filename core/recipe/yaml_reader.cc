#include "core/recipe/yaml_reader.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace chorus::recipe {
namespace {

constexpr int kMaxDepth = 64;
constexpr size_t kMaxNodes = 200000;
// Aliases repeat text without repeating it in the file: bound the expanded text too.
constexpr size_t kMaxTextBytes = size_t{16} << 20;
constexpr uintmax_t kMaxFileBytes = uintmax_t{4} << 20;

// Finds the first line whose indentation contains a tab.
std::optional<Location> find_tab_indent(std::string_view text, const std::string& file) {
  int line = 1;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view row = text.substr(start, end - start);
    const size_t first = row.find_first_not_of(" \t");
    const bool blank_or_comment = first == std::string_view::npos || row[first] == '#';
    const size_t tab = row.find('\t');
    if (!blank_or_comment && tab != std::string_view::npos && tab < first) {
      return Location{file, line, static_cast<int>(tab) + 1, ""};
    }
    if (end == text.size()) break;
    start = end + 1;
    ++line;
  }
  return std::nullopt;
}

class Converter {
 public:
  Converter(std::string file, Diagnostics& diags, Location fixed)
      : file_(std::move(file)), diags_(diags), fixed_(std::move(fixed)) {}

  std::optional<Node> convert(const YAML::Node& y, int depth) {
    const Location loc = where(y.Mark());
    if (depth > kMaxDepth) {
      diags_.add(loc, "", "nested deeper than " + std::to_string(kMaxDepth) + " levels");
      return std::nullopt;
    }
    if (++count_ > kMaxNodes) {
      diags_.add(
          loc, "",
          "document expands to more than " + std::to_string(kMaxNodes) + " nodes (aliases?)");
      return std::nullopt;
    }
    switch (y.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return Node::null(loc);
      case YAML::NodeType::Scalar:
        text_bytes_ += y.Scalar().size();
        if (text_bytes_ > kMaxTextBytes) {
          diags_.add(loc, "",
                     "document expands to more than " + std::to_string(kMaxTextBytes >> 20) +
                         " MiB of text (aliases?)");
          return std::nullopt;
        }
        // yaml-cpp tags non-plain (quoted, block) scalars "!" and plain ones "?".
        return Node::scalar(y.Scalar(), loc, y.Tag() == "!");
      case YAML::NodeType::Sequence: {
        Node list = Node::list(loc);
        for (const YAML::Node& item : y) {
          auto converted = convert(item, depth + 1);
          if (!converted) return std::nullopt;
          list.items().push_back(std::move(*converted));
        }
        return list;
      }
      case YAML::NodeType::Map: {
        Node map = Node::map(loc);
        for (const auto& kv : y) {
          const Location key_loc = where(kv.first.Mark());
          if (!kv.first.IsScalar()) {
            diags_.add(key_loc, "", "mapping keys must be plain words, not lists or mappings");
            return std::nullopt;
          }
          const std::string key = kv.first.Scalar();
          text_bytes_ += key.size();
          if (const MapEntry* previous = map.find_entry(key)) {
            diags_.add(key_loc, "",
                       "key '" + key + "' given twice in one mapping (first at line " +
                           std::to_string(previous->key_loc.line) + ")");
            return std::nullopt;
          }
          auto value = convert(kv.second, depth + 1);
          if (!value) return std::nullopt;
          map.entries().push_back(MapEntry{key, key_loc, std::move(*value)});
        }
        return map;
      }
    }
    return Node::null(loc);
  }

 private:
  Location where(const YAML::Mark& mark) const {
    if (!fixed_.file.empty() || !fixed_.origin.empty()) return fixed_;
    if (mark.is_null()) return Location{file_, 1, 1, ""};
    return Location{file_, mark.line + 1, mark.column + 1, ""};
  }

  std::string file_;
  Diagnostics& diags_;
  Location fixed_;  // when set, every node gets this location (command-line values)
  size_t count_ = 0;
  size_t text_bytes_ = 0;
};

std::optional<std::vector<YAML::Node>> load_all(std::string_view text, const Location& at,
                                                Diagnostics& diags, bool in_file) {
  try {
    return YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    Location loc = at;
    if (in_file && !e.mark.is_null()) {
      loc.line = e.mark.line + 1;
      loc.column = e.mark.column + 1;
    }
    diags.add(loc, "", "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    diags.add(at, "", std::string("YAML syntax error: ") + e.what());
  }
  return std::nullopt;
}

}  // namespace

std::optional<Node> parse_yaml(std::string_view text, const std::string& file, Diagnostics& diags) {
  if (auto tab = find_tab_indent(text, file)) {
    diags.add(*tab, "", "tab character in indentation; YAML indents with spaces only");
    return std::nullopt;
  }
  auto docs = load_all(text, Location{file, 1, 1, ""}, diags, true);
  if (!docs) return std::nullopt;
  if (docs->size() > 1) {
    diags.add(Location{file, 1, 1, ""}, "",
              "holds " + std::to_string(docs->size()) + " YAML documents; a recipe is one");
    return std::nullopt;
  }
  if (docs->empty() || (*docs)[0].IsNull()) return Node::map(Location{file, 1, 1, ""});
  Converter converter(file, diags, Location{});
  auto root = converter.convert((*docs)[0], 0);
  if (root && !root->is_map()) {
    diags.add(root->loc(), "", "a recipe must be a YAML mapping of sections (key: value lines)");
    return std::nullopt;
  }
  return root;
}

std::optional<Node> read_yaml_file(const std::string& path, Diagnostics& diags,
                                   const Location& from) {
  // Only regular files, and not huge ones: `defaults: [/dev/zero]` must not hang the loader.
  std::error_code ec;
  const bool regular = std::filesystem::is_regular_file(path, ec);
  const auto size = regular ? std::filesystem::file_size(path, ec) : 0;
  const Location& at = from.from_file() || !from.origin.empty() ? from : Location{path, 0, 0, path};
  if (regular && !ec && size > kMaxFileBytes) {
    diags.add(at, "",
              "recipe file '" + path + "' is larger than " + std::to_string(kMaxFileBytes >> 20) +
                  " MiB");
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!regular || !in) {
    diags.add(at, "", "cannot read recipe file '" + path + "'");
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_yaml(text.str(), path, diags);
}

std::optional<Node> parse_yaml_value(std::string_view text, const Location& loc,
                                     Diagnostics& diags) {
  if (text.empty()) return Node::scalar("", loc, true);  // `key=` sets an empty string
  auto docs = load_all(text, loc, diags, false);
  if (!docs) return std::nullopt;
  if (docs->size() != 1) {
    diags.add(loc, "", "value is not a single YAML value");
    return std::nullopt;
  }
  Converter converter("", diags, loc);
  return converter.convert((*docs)[0], 0);
}

}  // namespace chorus::recipe
