// YAML text -> recipe tree: locations, quoting, and the inputs a recipe must refuse.
#include "core/recipe/yaml_reader.h"

#include <gtest/gtest.h>

#include "core/recipe/emit.h"

namespace chorus::recipe {
namespace {

TEST(YamlReader, KeepsLineAndColumnOfEveryNode) {
  Diagnostics diags;
  auto root = parse_yaml("run:\n  name: demo\nstages:\n  - steps: 10\n", "r.yaml", diags);
  ASSERT_TRUE(root) << diags.str();
  const Node* name = lookup(*root, {"run", "name"});
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(name->loc().str(), "r.yaml:2:9");
  const Node* steps = lookup(*root, {"stages", "0", "steps"});
  ASSERT_NE(steps, nullptr);
  EXPECT_EQ(steps->value(), "10");
  EXPECT_EQ(steps->loc().line, 4);
  EXPECT_EQ(steps->loc().column, 12);
  EXPECT_EQ(root->find_entry("stages")->key_loc.line, 3);
}

TEST(YamlReader, QuotedScalarsAreMarked) {
  Diagnostics diags;
  auto root = parse_yaml("a: 1\nb: \"1\"\nc: '1'\nd:\n", "r.yaml", diags);
  ASSERT_TRUE(root);
  EXPECT_FALSE(root->find("a")->quoted());
  EXPECT_TRUE(root->find("b")->quoted());
  EXPECT_TRUE(root->find("c")->quoted());
  EXPECT_TRUE(root->find("d")->is_null());
}

TEST(YamlReader, SyntaxErrorNamesFileAndLine) {
  Diagnostics diags;
  EXPECT_FALSE(parse_yaml("a: [1, 2\nb: 3\n", "bad.yaml", diags));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags.list()[0].loc.file, "bad.yaml");
  EXPECT_GE(diags.list()[0].loc.line, 1);
  EXPECT_NE(diags.list()[0].message.find("YAML syntax error"), std::string::npos);
}

TEST(YamlReader, TabIndentationIsReportedAtItsLine) {
  Diagnostics diags;
  EXPECT_FALSE(parse_yaml("a:\n  b: 1\n\tc: 2\n", "tab.yaml", diags));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags.list()[0].str(),
            "tab.yaml:3:1: tab character in indentation; YAML indents with spaces only");
}

TEST(YamlReader, TabsInsideValuesAndCommentsAreFine) {
  Diagnostics diags;
  EXPECT_TRUE(parse_yaml("a: \"x\ty\"\n\t# a comment\nb: 1\n", "r.yaml", diags)) << diags.str();
}

TEST(YamlReader, DuplicateKeyIsAnError) {
  Diagnostics diags;
  EXPECT_FALSE(parse_yaml("a: 1\nb: 2\na: 3\n", "dup.yaml", diags));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags.list()[0].str(),
            "dup.yaml:3:1: key 'a' given twice in one mapping (first at line 1)");
}

TEST(YamlReader, RootMustBeAMapping) {
  Diagnostics diags;
  EXPECT_FALSE(parse_yaml("- a\n- b\n", "list.yaml", diags));
  EXPECT_NE(diags.str().find("must be a YAML mapping"), std::string::npos);
}

TEST(YamlReader, EmptyFileIsAnEmptyRecipe) {
  Diagnostics diags;
  auto root = parse_yaml("# nothing\n", "empty.yaml", diags);
  ASSERT_TRUE(root);
  EXPECT_TRUE(root->is_map());
  EXPECT_TRUE(root->entries().empty());
}

TEST(YamlReader, SeveralDocumentsAreRefused) {
  Diagnostics diags;
  EXPECT_FALSE(parse_yaml("a: 1\n---\nb: 2\n", "two.yaml", diags));
  EXPECT_NE(diags.str().find("2 YAML documents"), std::string::npos);
}

TEST(YamlReader, AliasBombIsBounded) {
  // Each level doubles the expansion: 2^30 nodes if expanded naively.
  std::string text = "a0: &a0 [x, x]\n";
  for (int i = 1; i <= 30; ++i) {
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [*a" + std::to_string(i - 1) +
            ", *a" + std::to_string(i - 1) + "]\n";
  }
  Diagnostics diags;
  EXPECT_FALSE(parse_yaml(text, "bomb.yaml", diags));
  EXPECT_NE(diags.str().find("more than"), std::string::npos) << diags.str();
}

TEST(YamlReader, MissingFileIsReported) {
  Diagnostics diags;
  EXPECT_FALSE(read_yaml_file("/nonexistent/recipe.yaml", diags));
  EXPECT_NE(diags.str().find("cannot read recipe file '/nonexistent/recipe.yaml'"),
            std::string::npos);
}

TEST(YamlReader, PrintedTreeReadsBackTheSame) {
  const std::string text =
      "run: {name: \"007\", seed: 3}\nstages:\n  - pairs: [[image, text]]\n    lr: 1.0e-3\n"
      "empty: {}\nnothing: ~\n";
  Diagnostics diags;
  auto root = parse_yaml(text, "r.yaml", diags);
  ASSERT_TRUE(root);
  const std::string printed = to_yaml(*root);
  auto again = parse_yaml(printed, "printed.yaml", diags);
  ASSERT_TRUE(again) << printed;
  EXPECT_EQ(to_yaml(*again), printed);
  EXPECT_TRUE(lookup(*again, {"run", "name"})->quoted());
  EXPECT_EQ(lookup(*again, {"stages", "0", "pairs", "0", "1"})->value(), "text");
  EXPECT_TRUE(again->find("nothing")->is_null());
}

TEST(YamlReader, CommandLineValuesAreYaml) {
  Diagnostics diags;
  const Location loc{"", 0, 0, "override 'x=...'"};
  auto list = parse_yaml_value("[a.jsonl, b.jsonl]", loc, diags);
  ASSERT_TRUE(list && list->is_list());
  EXPECT_EQ(list->items()[1].value(), "b.jsonl");
  EXPECT_EQ(list->items()[1].loc().origin, "override 'x=...'");
  auto scalar = parse_yaml_value("100", loc, diags);
  ASSERT_TRUE(scalar && scalar->is_scalar());
  EXPECT_FALSE(scalar->quoted());
  EXPECT_FALSE(parse_yaml_value("[unclosed", loc, diags));
}

}  // namespace
}  // namespace chorus::recipe
