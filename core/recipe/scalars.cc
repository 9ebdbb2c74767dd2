#include "core/recipe/scalars.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace chorus::recipe {

std::optional<bool> as_bool(const Node& n) {
  if (!n.is_scalar() || n.quoted()) return std::nullopt;
  const std::string& v = n.value();
  if (v == "true" || v == "True" || v == "TRUE") return true;
  if (v == "false" || v == "False" || v == "FALSE") return false;
  return std::nullopt;
}

std::optional<int64_t> as_int(const Node& n) {
  if (!n.is_scalar() || n.quoted()) return std::nullopt;
  std::string v = n.value();
  if (!v.empty() && v[0] == '+') v.erase(0, 1);
  if (v.empty()) return std::nullopt;
  int64_t out = 0;
  const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || ptr != v.data() + v.size()) return std::nullopt;
  return out;
}

std::optional<double> as_float(const Node& n) {
  if (!n.is_scalar() || n.quoted()) return std::nullopt;
  const std::string& v = n.value();
  if (v.empty()) return std::nullopt;
  // Only decimal numbers: strtod alone would also take "nan", "inf" and hex floats.
  for (char c : v) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' ||
          c == '+' || c == '-')) {
      return std::nullopt;
    }
  }
  char* end = nullptr;
  const double out = std::strtod(v.c_str(), &end);
  if (end != v.c_str() + v.size() || !std::isfinite(out)) return std::nullopt;
  return out;
}

std::string format_number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::string describe(const Node& n) {
  switch (n.kind()) {
    case Node::Kind::kNull:
      return "nothing";
    case Node::Kind::kList:
      return "a list";
    case Node::Kind::kMap:
      return "a mapping";
    case Node::Kind::kScalar:
      break;
  }
  if (n.quoted()) return "string \"" + n.value() + "\"";
  if (as_bool(n)) return "bool " + n.value();
  if (as_int(n)) return "integer " + n.value();
  if (as_float(n)) return "number " + n.value();
  return "'" + n.value() + "'";
}

}  // namespace chorus::recipe
