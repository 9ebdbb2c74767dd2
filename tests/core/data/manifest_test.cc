#include "core/data/manifest.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "data_test_util.h"

namespace chorus::data {
namespace {

TEST(Manifest, ParsesModalitiesLabelsSplitsAndExtras) {
  const std::string text =
      R"({"image": "img/1.png", "text": "a photo of a sandal", "audio": "wav/1.wav", "label": 5, "split": "train", "voice": "en-us+m3", "caption_id": 7})"
      "\n"
      R"({"text": "only text", "id": "t-2"})"
      "\n";
  Manifest m = parse_manifest(text, "/data/set/train.jsonl");
  ASSERT_TRUE(m.issues.empty()) << m.issues[0].to_string();
  ASSERT_EQ(m.entries.size(), 2u);
  const ManifestEntry& a = m.entries[0];
  EXPECT_EQ(a.line, 1);
  EXPECT_EQ(a.id, "train.jsonl:1");
  EXPECT_EQ(a.values.at("image"), "/data/set/img/1.png");
  EXPECT_EQ(a.values.at("audio"), "/data/set/wav/1.wav");
  EXPECT_EQ(a.values.at("text"), "a photo of a sandal");  // inline, not a path
  EXPECT_EQ(a.label, 5);
  EXPECT_EQ(a.split, "train");
  EXPECT_EQ(a.extra, (nlohmann::json{{"voice", "en-us+m3"}, {"caption_id", 7}}));
  const ManifestEntry& b = m.entries[1];
  EXPECT_EQ(b.id, "t-2");
  EXPECT_EQ(b.values.size(), 1u);
  EXPECT_FALSE(b.label.has_value());
  EXPECT_EQ(b.split, "");
}

TEST(Manifest, RelativePathsResolveAgainstTheManifestFolderNotTheWorkingDirectory) {
  testing::TempDir dir;
  const std::string path = dir.write("sub/m.jsonl", R"({"image": "../img/x.png"})"
                                                    "\n"
                                                    R"({"image": "/abs/y.png"})"
                                                    "\n"
                                                    R"({"image": "./a/./b/../c.png"})");
  auto m = read_manifest(path);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->entries.size(), 3u);
  const std::string root = std::filesystem::path(dir.path()).lexically_normal().string();
  EXPECT_EQ(m->entries[0].values.at("image"), root + "/img/x.png");
  EXPECT_EQ(m->entries[1].values.at("image"), "/abs/y.png");
  EXPECT_EQ(m->entries[2].values.at("image"), root + "/sub/a/c.png");
  // A manifest named by a relative path still yields absolute sample paths.
  const auto old = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  auto rel = read_manifest("sub/m.jsonl");
  std::filesystem::current_path(old);
  ASSERT_TRUE(rel.ok());
  EXPECT_EQ(rel->entries[0].values.at("image"), root + "/img/x.png");
}

TEST(Manifest, BadLinesBecomeIssuesNamingFileLineAndProblem) {
  const std::string text =
      "{\"image\": \"a.png\", \"label\": 1}\n"      // 1 good
      "{\"image\": \"b.png\", \"label\": \n"        // 2 truncated JSON
      "[1, 2]\n"                                    // 3 not an object
      "{\"label\": 3}\n"                            // 4 no modality
      "{\"image\": 5}\n"                            // 5 modality not a string
      "{\"image\": \"c.png\", \"label\": \"x\"}\n"  // 6 label not an integer
      "{\"image\": \"c.png\", \"label\": 2.5}\n"    // 7 label not an integer
      "{\"image\": \"c.png\", \"label\": -1}\n"     // 8 negative
      "{\"image\": \"c.png\", \"split\": 3}\n"      // 9 split not a string
      "{\"image\": \"\"}\n"                         // 10 empty
      "   \n"                                       // 11 blank: skipped silently
      "{\"image\": \"d.png\", \"label\": 12}\r\n"   // 12 out of range (num_classes 10), CRLF
      "{\"image\": \"e.png\", \"id\": [1]}\n";      // 13 id of wrong type
  ManifestOptions o;
  o.num_classes = 10;
  Manifest m = parse_manifest(text, "dir/m.jsonl", o);
  ASSERT_EQ(m.entries.size(), 1u);
  std::vector<std::pair<int64_t, std::string>> expected = {
      {2, "invalid JSON"},
      {3, "expected a JSON object, got array"},
      {4, "no modality field"},
      {5, "modality \"image\" must be a string, got number"},
      {6, "\"label\" must be an integer, got string"},
      {7, "\"label\" must be an integer, got number 2.5"},
      {8, "label -1 is negative"},
      {9, "\"split\" must be a string"},
      {10, "modality \"image\" is empty"},
      {12, "label 12 out of range [0, 10)"},
      {13, "\"id\" must be a string or an integer"}};
  ASSERT_EQ(m.issues.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(m.issues[i].file, "dir/m.jsonl");
    EXPECT_EQ(m.issues[i].line, expected[i].first);
    EXPECT_NE(m.issues[i].problem.find(expected[i].second), std::string::npos)
        << "line " << expected[i].first << ": " << m.issues[i].problem;
  }
  EXPECT_EQ(m.issues[0].to_string().rfind("dir/m.jsonl:2: invalid JSON", 0), 0u)
      << m.issues[0].to_string();
}

TEST(Manifest, SplitFilterKeepsOnlyExactMatches) {
  const std::string text = R"({"image": "a", "split": "train"})"
                           "\n"
                           R"({"image": "b", "split": "test"})"
                           "\n"
                           R"({"image": "c"})"
                           "\n"
                           R"({"image": "d", "split": "train"})";
  ManifestOptions o;
  o.split = "train";
  Manifest m = parse_manifest(text, "m.jsonl", o);
  ASSERT_EQ(m.entries.size(), 2u);
  EXPECT_EQ(m.entries[0].line, 1);
  EXPECT_EQ(m.entries[1].line, 4);
  EXPECT_EQ(m.lines_filtered, 2);
}

TEST(Manifest, SchemaDecidesWhichFieldsAreModalitiesAndWhichArePaths) {
  ManifestOptions o;
  o.schema.modalities["depth"] = ValueKind::kPath;
  o.schema.modalities["caption"] = ValueKind::kInline;
  Manifest m =
      parse_manifest(R"({"depth": "d/1.exr", "caption": "c", "image": "x.png"})", "/r/m.jsonl", o);
  ASSERT_EQ(m.entries.size(), 1u);
  EXPECT_EQ(m.entries[0].values.at("depth"), "/r/d/1.exr");
  EXPECT_EQ(m.entries[0].values.at("caption"), "c");
  EXPECT_EQ(m.entries[0].values.at("image"), "/r/x.png");
}

TEST(Manifest, MissingFileIsAnErrorNamingIt) {
  auto m = read_manifest("/nonexistent/chorus/m.jsonl");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("/nonexistent/chorus/m.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace chorus::data
