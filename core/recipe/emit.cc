#include "core/recipe/emit.h"

#include <yaml-cpp/yaml.h>

namespace chorus::recipe {
namespace {

bool is_flat(const Node& n) {
  for (const Node& item : n.items()) {
    if (item.is_map()) return false;
    if (item.is_list() && !is_flat(item)) return false;
  }
  return true;
}

void emit(YAML::Emitter& out, const Node& n) {
  switch (n.kind()) {
    case Node::Kind::kNull:
      out << YAML::Null;
      return;
    case Node::Kind::kScalar:
      if (n.quoted()) out << YAML::DoubleQuoted;
      out << n.value();
      return;
    case Node::Kind::kList:
      if (is_flat(n)) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const Node& item : n.items()) emit(out, item);
      out << YAML::EndSeq;
      return;
    case Node::Kind::kMap:
      if (n.entries().empty()) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const MapEntry& e : n.entries()) {
        // A key that would read back as null must be quoted to stay the same key.
        const bool null_like =
            e.key.empty() || e.key == "~" || e.key == "null" || e.key == "Null" || e.key == "NULL";
        out << YAML::Key;
        if (null_like) out << YAML::DoubleQuoted;
        out << e.key << YAML::Value;
        emit(out, e.value);
      }
      out << YAML::EndMap;
      return;
  }
}

}  // namespace

std::string to_yaml(const Node& root) {
  YAML::Emitter out;
  out.SetIndent(2);
  emit(out, root);
  std::string text = out.c_str();
  if (text.empty() || text.back() != '\n') text += '\n';
  return text;
}

}  // namespace chorus::recipe
