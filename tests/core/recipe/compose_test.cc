// `defaults:` includes: merge order, deep merge, list replacement, cycles.
#include "core/recipe/compose.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/recipe/yaml_reader.h"
#include "tests/core/recipe/recipe_testing.h"

namespace chorus::recipe {
namespace {

namespace fs = std::filesystem;

class ComposeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("chorus_compose_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "sub");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  fs::path dir_;
};

TEST_F(ComposeTest, LaterDefaultsWinAndTheIncludingFileWinsOverAll) {
  write("a.yaml", "x: {p: a, q: a, list: [1, 2, 3]}\nonly_a: 1\n");
  write("b.yaml", "x: {q: b, r: b, list: [9]}\n");
  const std::string top = write("top.yaml", "defaults: [a.yaml, b.yaml]\nx: {r: top}\n");
  Diagnostics diags;
  auto root = compose_file(top, diags);
  ASSERT_TRUE(root) << diags.str();
  EXPECT_EQ(root->find("defaults"), nullptr);
  EXPECT_EQ(lookup(*root, {"x", "p"})->value(), "a");    // only a sets it
  EXPECT_EQ(lookup(*root, {"x", "q"})->value(), "b");    // b after a
  EXPECT_EQ(lookup(*root, {"x", "r"})->value(), "top");  // the including file last
  EXPECT_EQ(lookup(*root, {"only_a"})->value(), "1");
  // Lists replace, they do not concatenate.
  ASSERT_EQ(lookup(*root, {"x", "list"})->items().size(), 1u);
  EXPECT_EQ(lookup(*root, {"x", "list", "0"})->value(), "9");
  // Each value remembers the file that set it.
  EXPECT_EQ(fs::path(lookup(*root, {"x", "p"})->loc().file).filename(), "a.yaml");
  EXPECT_EQ(fs::path(lookup(*root, {"x", "q"})->loc().file).filename(), "b.yaml");
  EXPECT_EQ(fs::path(lookup(*root, {"x", "r"})->loc().file).filename(), "top.yaml");
}

TEST_F(ComposeTest, DefaultsResolveAgainstTheIncludingFileAndNest) {
  write("sub/base.yaml", "defaults: [../root.yaml]\nlevel: base\n");
  write("root.yaml", "level: root\nfrom_root: yes\n");
  const std::string top = write("top.yaml", "defaults: sub/base.yaml\n");
  Diagnostics diags;
  auto root = compose_file(top, diags);
  ASSERT_TRUE(root) << diags.str();
  EXPECT_EQ(root->find("level")->value(), "base");
  EXPECT_EQ(root->find("from_root")->value(), "yes");
}

TEST_F(ComposeTest, DiamondIncludesAreNotCycles) {
  write("common.yaml", "c: 1\n");
  write("l.yaml", "defaults: [common.yaml]\nl: 1\n");
  write("r.yaml", "defaults: [common.yaml]\nr: 1\n");
  const std::string top = write("top.yaml", "defaults: [l.yaml, r.yaml]\n");
  Diagnostics diags;
  auto root = compose_file(top, diags);
  ASSERT_TRUE(root) << diags.str();
  EXPECT_EQ(root->keys(), (std::vector<std::string>{"c", "l", "r"}));
}

TEST_F(ComposeTest, CycleIsReportedWithTheWholeChain) {
  const std::string a = write("a.yaml", "defaults: [b.yaml]\n");
  write("b.yaml", "x: 1\ndefaults: [c.yaml]\n");
  write("c.yaml", "defaults:\n  - a.yaml\n");
  Diagnostics diags;
  EXPECT_FALSE(compose_file(a, diags));
  ASSERT_EQ(diags.size(), 1u) << diags.str();
  const Diagnostic& d = diags.list()[0];
  EXPECT_EQ(fs::path(d.loc.file).filename(), "c.yaml");
  EXPECT_EQ(d.loc.line, 2);
  EXPECT_NE(d.message.find("defaults cycle: "), std::string::npos);
  EXPECT_NE(d.message.find("a.yaml -> "), std::string::npos);
  EXPECT_NE(d.message.find("b.yaml -> "), std::string::npos);
  EXPECT_NE(d.message.find("c.yaml -> "), std::string::npos);
}

TEST_F(ComposeTest, MissingDefaultIsReportedAtTheLineNamingIt) {
  const std::string top = write("top.yaml", "run: {}\ndefaults:\n  - nope.yaml\n");
  Diagnostics diags;
  EXPECT_FALSE(compose_file(top, diags));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags.list()[0].loc.line, 3);
  EXPECT_NE(diags.list()[0].message.find("cannot read recipe file"), std::string::npos);
}

TEST(Merge, MappingsMergeDeeplyAndEverythingElseReplaces) {
  Diagnostics diags;
  auto base = parse_yaml("a: {b: {c: 1, d: 2}, e: [1]}\nf: x\n", "base", diags);
  auto over = parse_yaml("a: {b: {d: 3}, e: [2, 3]}\nf: {now: map}\n", "over", diags);
  ASSERT_TRUE(base && over);
  merge_into(*base, std::move(*over));
  EXPECT_EQ(lookup(*base, {"a", "b", "c"})->value(), "1");
  EXPECT_EQ(lookup(*base, {"a", "b", "d"})->value(), "3");
  EXPECT_EQ(lookup(*base, {"a", "e"})->items().size(), 2u);
  EXPECT_TRUE(base->find("f")->is_map());
}

}  // namespace
}  // namespace chorus::recipe
