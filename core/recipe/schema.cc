#include "core/recipe/schema.h"

namespace chorus::recipe {

Field Field::def(std::string yaml) && {
  presence = Presence::kDefault;
  default_yaml = std::move(yaml);
  return std::move(*this);
}
Field Field::req() && {
  presence = Presence::kRequired;
  return std::move(*this);
}
Field Field::range(double lo, double hi) && {
  min = lo;
  max = hi;
  return std::move(*this);
}
Field Field::at_least(double lo) && {
  min = lo;
  return std::move(*this);
}
Field Field::above(double lo) && {
  min = lo;
  min_exclusive = true;
  return std::move(*this);
}
Field Field::one_of(std::vector<std::string> values) && {
  choices = std::move(values);
  return std::move(*this);
}
Field Field::or_words(std::vector<std::string> values) && {
  words = std::move(values);
  return std::move(*this);
}
Field Field::items(size_t lo, size_t hi) && {
  min_items = lo;
  max_items = hi;
  return std::move(*this);
}
Field Field::exists() && {
  must_exist = true;
  return std::move(*this);
}
Field Field::shown(std::string type) && {
  shown_type = std::move(type);
  return std::move(*this);
}
Field Field::checked(std::function<std::string(const Node&)> fn) && {
  check = std::move(fn);
  return std::move(*this);
}

const Field* Field::field(const std::string& key) const {
  for (const Field& f : fields) {
    if (f.name == key) return &f;
  }
  return nullptr;
}

std::vector<std::string> Field::field_names() const {
  std::vector<std::string> out;
  for (const Field& f : fields) out.push_back(f.name);
  return out;
}

namespace {
std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}
}  // namespace

std::string Field::type_name() const {
  if (!shown_type.empty()) return shown_type;
  std::string base;
  switch (type) {
    case Type::kBool:
      return "bool";
    case Type::kInt:
      base = "int";
      break;
    case Type::kFloat:
      base = "float";
      break;
    case Type::kString:
      return choices.empty() ? "string" : join(choices, " | ");
    case Type::kPath:
      base = "path";
      break;
    case Type::kList:
      return "list of " + element->type_name();
    case Type::kMap:
      return "map: name -> " + element->type_name();
    case Type::kStruct:
      return "section";
    case Type::kAny:
      return "any";
  }
  return words.empty() ? base : join(words, " | ") + " | " + base;
}

namespace {
Field make(std::string name, Type type, std::string doc) {
  Field f;
  f.name = std::move(name);
  f.type = type;
  f.doc = std::move(doc);
  return f;
}
}  // namespace

Field Bool(std::string name, std::string doc) { return make(name, Type::kBool, doc); }
Field Int(std::string name, std::string doc) { return make(name, Type::kInt, doc); }
Field Float(std::string name, std::string doc) { return make(name, Type::kFloat, doc); }
Field Str(std::string name, std::string doc) { return make(name, Type::kString, doc); }
Field Path(std::string name, std::string doc) { return make(name, Type::kPath, doc); }
Field Any(std::string name, std::string doc) { return make(name, Type::kAny, doc); }
Field List(std::string name, Field element, std::string doc) {
  Field f = make(name, Type::kList, doc);
  f.element = std::make_shared<const Field>(std::move(element));
  return f;
}
Field Map(std::string name, Field element, std::string doc) {
  Field f = make(name, Type::kMap, doc);
  f.element = std::make_shared<const Field>(std::move(element));
  return f;
}
Field Struct(std::string name, std::string doc, std::vector<Field> fields) {
  Field f = make(name, Type::kStruct, doc);
  f.fields = std::move(fields);
  return f;
}

const Field* schema_at(const Field& root, const std::vector<std::string>& path) {
  const Field* f = &root;
  for (const std::string& segment : path) {
    switch (f->type) {
      case Type::kStruct:
        f = f->field(segment);
        break;
      case Type::kList:
        if (!parse_index(segment)) return nullptr;
        f = f->element.get();
        break;
      case Type::kMap:
        f = f->element.get();
        break;
      case Type::kAny:
        return f;
      default:
        return nullptr;
    }
    if (f == nullptr) return nullptr;
  }
  return f;
}

}  // namespace chorus::recipe
