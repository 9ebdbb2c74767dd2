// Option validation against a plugin's schema: defaults, types, ranges, choices, unknown names
// with suggestions, every problem reported at once.
#include "core/plugin/options.h"

#include <gtest/gtest.h>

#include "core/plugin/suggest.h"

namespace chorus::plugin {
namespace {

using nlohmann::json;

OptionSchema TestSchema() {
  return {
      {.name = "chunk",
       .type = OptionType::kInt,
       .default_value = 16,
       .doc = "bytes per token",
       .min = 1,
       .max = 4096},
      {.name = "scale",
       .type = OptionType::kFloat,
       .default_value = 0.5,
       .doc = "scale",
       .min = 0.0,
       .max = 1.0},
      {.name = "mode",
       .type = OptionType::kString,
       .default_value = "bilinear",
       .doc = "resize",
       .choices = {"bilinear", "bicubic"}},
      {.name = "flip", .type = OptionType::kBool, .default_value = false, .doc = "flip"},
      {.name = "vocab", .type = OptionType::kPath, .default_value = nullptr, .doc = "vocab file"},
      {.name = "mean",
       .type = OptionType::kFloatList,
       .default_value = json::array({0.5, 0.5}),
       .doc = "per channel",
       .min = -1,
       .max = 1},
      {.name = "sizes",
       .type = OptionType::kIntList,
       .default_value = json::array({1}),
       .doc = "sizes",
       .min = 1},
  };
}

TEST(EditDistance, KnownValues) {
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("flaw", "lawn"), 2u);
  EXPECT_EQ(EditDistance("same", "same"), 0u);
  EXPECT_EQ(ClosestName("chnk", {"mode", "chunk", "scale"}), "chunk");
  EXPECT_EQ(ClosestName("zzzzzz", {"mode", "chunk"}), "");
}

TEST(ValidateOptions, FillsDefaultsAndResolvesPaths) {
  auto out = ValidateOptions(TestSchema(), {{"vocab", "tok/vocab.json"}, {"chunk", 8.0}}, "p",
                             "/data/recipes");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)["chunk"], json(8));
  EXPECT_TRUE((*out)["chunk"].is_number_integer());
  EXPECT_EQ((*out)["scale"], json(0.5));
  EXPECT_EQ((*out)["mode"], json("bilinear"));
  EXPECT_EQ((*out)["flip"], json(false));
  EXPECT_EQ((*out)["vocab"], json("/data/recipes/tok/vocab.json"));
  EXPECT_EQ((*out)["mean"], json::array({0.5, 0.5}));
  EXPECT_EQ(out->size(), 7u);
  // Validating the output again changes nothing (the host may validate twice).
  auto again = ValidateOptions(TestSchema(), *out, "p", "/elsewhere");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *out);
  // An int is a valid float.
  auto as_float = ValidateOptions(TestSchema(), {{"vocab", "/v"}, {"scale", 1}});
  ASSERT_TRUE(as_float.ok());
  EXPECT_TRUE((*as_float)["scale"].is_number_float());
}

TEST(ValidateOptions, ReportsEveryProblemAtOnce) {
  const json given = {{"chnk", 8},     {"scale", 2.5},     {"mode", "bicubik"},
                      {"flip", "yes"}, {"mean", {0.1, 3}}, {"sizes", {1, 2.5}}};
  std::vector<OptionError> errors = CheckOptions(TestSchema(), given, {}, nullptr);
  std::map<std::string, std::string> by_option;
  for (const auto& e : errors) by_option[e.option] += e.message;
  ASSERT_EQ(errors.size(), 7u);
  EXPECT_NE(by_option["chnk"].find("unknown option 'chnk' (did you mean 'chunk'?)"),
            std::string::npos)
      << by_option["chnk"];
  EXPECT_NE(by_option["scale"].find("2.5 is out of range, must be in [0, 1]"), std::string::npos)
      << by_option["scale"];
  EXPECT_NE(by_option["mode"].find("\"bicubik\" is not one of: bilinear, bicubic (did you mean "
                                   "'bicubic'?)"),
            std::string::npos)
      << by_option["mode"];
  EXPECT_NE(by_option["flip"].find("expected true or false, got \"yes\""), std::string::npos);
  EXPECT_NE(by_option["vocab"].find("missing required option 'vocab' (path: vocab file)"),
            std::string::npos)
      << by_option["vocab"];
  EXPECT_NE(by_option["mean"].find("option 'mean' element 1: 3 is out of range"), std::string::npos)
      << by_option["mean"];
  EXPECT_NE(by_option["sizes"].find("element 1: expected an integer, got 2.5"), std::string::npos)
      << by_option["sizes"];

  auto status = ValidateOptions(TestSchema(), given, "plugin 'image'");
  EXPECT_EQ(status.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.status().message().rfind("plugin 'image': invalid options: ", 0), 0u)
      << status.status();
}

TEST(ValidateOptions, RejectsNonObjectsAndWrongTypes) {
  EXPECT_FALSE(ValidateOptions(TestSchema(), json::array({1, 2})).ok());
  auto errors =
      CheckOptions(TestSchema(), {{"vocab", 3}, {"chunk", "8"}, {"mean", 0.5}}, {}, nullptr);
  ASSERT_EQ(errors.size(), 3u);
  std::string all;
  for (const auto& e : errors) all += e.message + "\n";
  EXPECT_NE(all.find("option 'vocab': expected a file path"), std::string::npos) << all;
  EXPECT_NE(all.find("option 'chunk': expected an integer, got \"8\""), std::string::npos) << all;
  EXPECT_NE(all.find("option 'mean': expected a list of numbers, got 0.5"), std::string::npos)
      << all;
  // An empty path means "no file" and is kept as it is, not resolved against a folder.
  Options resolved;
  EXPECT_TRUE(CheckOptions(TestSchema(), {{"vocab", ""}}, "/some/dir", &resolved).empty());
  EXPECT_EQ(resolved["vocab"], "");
  // A plugin without options refuses any option, saying so.
  auto none = ValidateOptions({}, {{"x", 1}});
  EXPECT_NE(none.status().message().find("this plugin takes no options"), std::string::npos);
  EXPECT_TRUE(ValidateOptions({}, nullptr).ok());
}

TEST(CheckSchema, FindsPluginBugs) {
  EXPECT_TRUE(CheckSchema(TestSchema()).ok());
  OptionSchema bad = {
      {.name = "a", .type = OptionType::kInt, .default_value = "x", .doc = ""},
      {.name = "a", .type = OptionType::kInt, .default_value = 1, .doc = ""},
      {.name = "c", .type = OptionType::kString, .default_value = "z", .doc = "", .choices = {"x"}},
      {.name = "d",
       .type = OptionType::kFloat,
       .default_value = 0.0,
       .doc = "",
       .min = 2,
       .max = 1},
  };
  absl::Status s = CheckSchema(bad);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("default of option 'a': expected an integer"), std::string::npos) << s;
  EXPECT_NE(s.message().find("option 'a' twice"), std::string::npos) << s;
  EXPECT_NE(s.message().find("default of option 'c'"), std::string::npos) << s;
  EXPECT_NE(s.message().find("option 'd' has min > max"), std::string::npos) << s;
}

TEST(DescribeConstraint, ShowsRangesAndChoices) {
  const OptionSchema schema = TestSchema();
  EXPECT_EQ(DescribeConstraint(schema[0]), "in [1, 4096]");
  EXPECT_EQ(DescribeConstraint(schema[2]), "one of: bilinear, bicubic");
  EXPECT_EQ(DescribeConstraint(schema[3]), "");
  EXPECT_EQ(DescribeConstraint(schema[6]), ">= 1");
  EXPECT_EQ(OptionSpecToJson(schema[4])["required"], json(true));
}

}  // namespace
}  // namespace chorus::plugin
