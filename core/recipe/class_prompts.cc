#include "core/recipe/class_prompts.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "nlohmann/json.hpp"

namespace chorus::recipe {

namespace {

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

absl::Status bad(const std::string& path, const std::string& problem) {
  return absl::InvalidArgumentError("classes file " + path + ": " + problem);
}

}  // namespace

std::string fill_template(const std::string& pattern, const std::string& noun) {
  std::string text = pattern;
  const bool vowel = !noun.empty() && std::string("aeiouAEIOU").find(noun[0]) != std::string::npos;
  replace_all(text, "{a}", vowel ? "an" : "a");
  replace_all(text, "{n}", noun);
  return text;
}

absl::StatusOr<ClassPrompts> load_class_prompts(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("classes file " + path + " cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return bad(path, "not a JSON object");
  if (!j.contains("classes") || !j["classes"].is_array() || j["classes"].empty()) {
    return bad(path, "needs a non-empty \"classes\" array of names");
  }
  ClassPrompts out;
  for (const auto& c : j["classes"]) {
    if (!c.is_string()) return bad(path, "\"classes\" must hold strings");
    out.class_names.push_back(c.get<std::string>());
  }
  const size_t n = out.class_names.size();
  std::vector<std::string> nouns;
  if (j.contains("nouns")) {
    if (!j["nouns"].is_array() || j["nouns"].size() != n) {
      return bad(path, "\"nouns\" must be an array as long as \"classes\"");
    }
    for (const auto& v : j["nouns"]) {
      if (!v.is_string()) return bad(path, "\"nouns\" must hold strings");
      nouns.push_back(v.get<std::string>());
    }
  } else {
    for (std::string name : out.class_names) {
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      nouns.push_back(name);
    }
  }
  if (j.contains("prompts")) {
    if (!j["prompts"].is_array() || j["prompts"].size() != n) {
      return bad(path, "\"prompts\" must hold one array of prompts per class");
    }
    for (size_t c = 0; c < n; ++c) {
      const auto& list = j["prompts"][c];
      if (!list.is_array() || list.empty()) return bad(path, "empty prompt list for a class");
      for (const auto& p : list) {
        if (!p.is_string()) return bad(path, "prompts must be strings");
        out.texts.push_back(p.get<std::string>());
        out.classes.push_back(static_cast<int64_t>(c));
      }
    }
    return out;
  }
  std::vector<std::string> templates;
  if (j.contains("templates")) {
    if (!j["templates"].is_array()) return bad(path, "\"templates\" must be an array");
    for (const auto& t : j["templates"]) {
      if (!t.is_string()) return bad(path, "\"templates\" must hold strings");
      templates.push_back(t.get<std::string>());
    }
  }
  if (templates.empty()) templates.push_back("a photo of {a} {n}");
  for (size_t c = 0; c < n; ++c) {
    for (const auto& t : templates) {
      out.texts.push_back(fill_template(t, nouns[c]));
      out.classes.push_back(static_cast<int64_t>(c));
    }
  }
  return out;
}

}  // namespace chorus::recipe
