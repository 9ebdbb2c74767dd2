// docs/recipes.md carries the generated schema reference; this keeps it in step with the code.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/recipe/schema.h"

namespace chorus::recipe {
namespace {

TEST(SchemaDoc, DocsCarryTheGeneratedReference) {
  std::ifstream in(std::string(CHORUS_SOURCE_DIR) + "/docs/recipes.md");
  ASSERT_TRUE(in) << "docs/recipes.md missing";
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const std::string begin = "<!-- BEGIN SCHEMA (chorus recipe schema --markdown) -->\n";
  const std::string end = "<!-- END SCHEMA -->";
  const size_t a = doc.find(begin), b = doc.find(end);
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  EXPECT_EQ(doc.substr(a + begin.size(), b - a - begin.size()), schema_markdown(engine_schema()))
      << "regenerate the reference: chorus recipe schema --markdown";
}

TEST(SchemaDoc, EveryKeyIsDocumented) {
  // Walk the schema: a key without a sentence is a key nobody can use.
  std::vector<std::pair<std::string, const Field*>> todo{{"", &engine_schema()}};
  int keys = 0;
  while (!todo.empty()) {
    auto [path, f] = todo.back();
    todo.pop_back();
    const Field* body = (f->type == Type::kList || f->type == Type::kMap) ? f->element.get() : f;
    for (const Field& child : body->fields) {
      const std::string child_path = path.empty() ? child.name : path + "." + child.name;
      EXPECT_FALSE(child.doc.empty()) << child_path;
      ++keys;
      todo.push_back({child_path, &child});
    }
  }
  EXPECT_GT(keys, 80);
}

TEST(SchemaDoc, TextReferenceShowsTypesAndDefaults) {
  const std::string text = schema_text(engine_schema());
  EXPECT_NE(text.find("model.shared_width  (int, default 2048)"), std::string::npos);
  EXPECT_NE(text.find("stages[].optimizer.lr  (float, required)"), std::string::npos);
  EXPECT_NE(text.find("stages[].losses.instance.temperature  (learnable | float, default "
                      "learnable)"),
            std::string::npos);
  EXPECT_NE(text.find("run.device  (cpu | cuda:N, default cpu)"), std::string::npos);
}

TEST(SchemaAt, WalksListsAndMaps) {
  const Field& s = engine_schema();
  EXPECT_EQ(schema_at(s, {"stages", "3", "optimizer", "lr"})->type, Type::kFloat);
  EXPECT_EQ(schema_at(s, {"modalities", "image", "plugin"})->type, Type::kString);
  EXPECT_EQ(schema_at(s, {"modalities", "image", "options", "anything"})->type, Type::kAny);
  EXPECT_EQ(schema_at(s, {"stages", "x"}), nullptr);
  EXPECT_EQ(schema_at(s, {"nope"}), nullptr);
}

}  // namespace
}  // namespace chorus::recipe
