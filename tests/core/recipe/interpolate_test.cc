// ${...} interpolation: references, whole-node copies, env variables, cycles, errors.
#include "core/recipe/interpolate.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "core/recipe/yaml_reader.h"

namespace chorus::recipe {
namespace {

struct Result {
  Node root;
  std::string errors;
};

Result run(const std::string& text) {
  Diagnostics diags;
  auto root = parse_yaml(text, "i.yaml", diags);
  EXPECT_TRUE(root) << diags.str();
  interpolate(*root, diags);
  return {*root, diags.str()};
}

TEST(Interpolate, ReplacesReferencesInsideStrings) {
  auto r = run("root: /data\nname: fmnist\npath: ${root}/${name}/train.jsonl\n");
  EXPECT_EQ(r.errors, "");
  EXPECT_EQ(r.root.find("path")->value(), "/data/fmnist/train.jsonl");
}

TEST(Interpolate, AWholeReferenceCopiesTheNodeWithItsType) {
  auto r =
      run("stages:\n  - {lr: 1.0e-3, pairs: [[image, text]]}\n"
          "  - {lr: '${stages.0.lr}', pairs: '${stages.0.pairs}'}\n");
  EXPECT_EQ(r.errors, "");
  const Node* lr = lookup(r.root, {"stages", "1", "lr"});
  EXPECT_EQ(lr->value(), "1.0e-3");
  EXPECT_FALSE(lr->quoted());    // the referenced value is a number, not the quoted text
  EXPECT_EQ(lr->loc().line, 3);  // errors still point at the referencing line
  const Node* pairs = lookup(r.root, {"stages", "1", "pairs"});
  ASSERT_TRUE(pairs->is_list());
  EXPECT_EQ(lookup(r.root, {"stages", "1", "pairs", "0", "1"})->value(), "text");
}

TEST(Interpolate, ResolvesRecursively) {
  auto r = run("a: ${b}x\nb: ${c}y\nc: z\n");
  EXPECT_EQ(r.errors, "");
  EXPECT_EQ(r.root.find("a")->value(), "zyx");
  EXPECT_EQ(r.root.find("b")->value(), "zy");
}

TEST(Interpolate, CycleIsAnErrorShowingIt) {
  auto r = run("a: ${b}\nb: x${c}\nc: ${a}\n");
  EXPECT_NE(r.errors.find("interpolation cycle: a -> b -> c -> a"), std::string::npos) << r.errors;
}

TEST(Interpolate, SelfReferenceThroughAParentIsACycle) {
  auto r = run("a: {b: '${a}'}\n");
  EXPECT_NE(r.errors.find("interpolation cycle"), std::string::npos) << r.errors;
}

TEST(Interpolate, UnknownKeySuggestsAndNamesTheLine) {
  auto r = run("run: {name: demo}\nout: runs/${run.nmae}\n");
  EXPECT_EQ(r.errors,
            "i.yaml:2:6: out: '${run.nmae}' refers to 'run.nmae', which is not in the recipe "
            "(did you mean 'name'?)\n");
}

TEST(Interpolate, EnvironmentVariables) {
  ::setenv("CHORUS_TEST_ROOT", "/srv/data", 1);
  ::unsetenv("CHORUS_TEST_UNSET");
  auto r =
      run("a: ${env:CHORUS_TEST_ROOT}/x\nb: ${env:CHORUS_TEST_UNSET,fallback}\n"
          "c: \"${env:CHORUS_TEST_UNSET,12}\"\n");
  EXPECT_EQ(r.errors, "");
  EXPECT_EQ(r.root.find("a")->value(), "/srv/data/x");
  EXPECT_EQ(r.root.find("b")->value(), "fallback");
  EXPECT_EQ(r.root.find("c")->value(), "12");
  EXPECT_FALSE(r.root.find("c")->quoted());  // typed by the schema like a plain value

  auto unset = run("x:\n  y: ${env:CHORUS_TEST_UNSET}\n");
  EXPECT_EQ(unset.errors,
            "i.yaml:2:6: x.y: environment variable CHORUS_TEST_UNSET is not set (write "
            "${env:CHORUS_TEST_UNSET,default} to give a default)\n");
}

TEST(Interpolate, EscapedDollarStaysLiteral) {
  auto r = run("a: 'cost \\${x}'\n");
  EXPECT_EQ(r.errors, "");
  EXPECT_EQ(r.root.find("a")->value(), "cost ${x}");
}

TEST(Interpolate, ListOrMapInsideAStringIsAnError) {
  auto r = run("l: [1, 2]\ns: x${l}\n");
  EXPECT_NE(r.errors.find("'${l}' is a list or mapping and cannot be part of a string"),
            std::string::npos);
}

TEST(Interpolate, KeysThatAreNotAddressableAreErrorsNotRecursion) {
  // An empty key under the root used to name the root itself and recurse until the stack
  // overflowed (found by the recipe fuzzer); a dotted key names some other node.
  for (const char* text : {"'': {a: 1}\n", "\"\": 2\n", "outer: {'a.b': 1}\n"}) {
    auto r = run(text);
    EXPECT_NE(r.errors.find("recipe keys must be non-empty and contain no '.'"), std::string::npos)
        << text << ": " << r.errors;
  }
}

TEST(Interpolate, UnterminatedReferenceIsAnError) {
  auto r = run("s: 'x${oops'\n");
  EXPECT_NE(r.errors.find("unterminated '${'"), std::string::npos);
}

TEST(Interpolate, ExponentialExpansionIsBounded) {
  std::string text = "l0: [a, b]\n";
  for (int i = 1; i <= 40; ++i) {
    text += "l" + std::to_string(i) + ": ['${l" + std::to_string(i - 1) + "}', '${l" +
            std::to_string(i - 1) + "}']\n";
  }
  auto r = run(text);
  EXPECT_NE(r.errors.find("interpolation expands the recipe beyond"), std::string::npos);
}

TEST(Interpolate, TextGrowthAcrossManyCopiesIsBounded) {
  // 4 bytes doubled 16 times is 256 KiB; 100 whole copies of it would be 25 MiB.
  std::string text = "s0: xxxx\n";
  for (int i = 1; i <= 16; ++i) {
    text += "s" + std::to_string(i) + ": ${s" + std::to_string(i - 1) + "}${s" +
            std::to_string(i - 1) + "}\n";
  }
  for (int i = 0; i < 100; ++i) text += "c" + std::to_string(i) + ": ${s16}\n";
  auto r = run(text);
  EXPECT_NE(r.errors.find("MiB"), std::string::npos) << r.errors.substr(0, 200);
}

}  // namespace
}  // namespace chorus::recipe
