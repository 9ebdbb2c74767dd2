#include "core/data/check.h"

#include <gtest/gtest.h>

#include "data_test_util.h"

namespace chorus::data {
namespace {

using testing::TempDir;

std::string write_checkable(const TempDir& dir) {
  dir.write("img/1.txt", "1");
  dir.write("img/3.txt", "bad");
  dir.write("img/empty.txt", "");
  dir.write("wav/shared.txt", "9");
  return dir.write("m.jsonl",
                   "{\"image\": \"img/1.txt\", \"audio\": \"wav/shared.txt\", \"label\": 1, "
                   "\"split\": \"train\", \"text\": \"a\"}\n"
                   "{\"image\": \"img/2.txt\", \"audio\": \"wav/missing.txt\", \"label\": 2, "
                   "\"split\": \"train\"}\n"
                   "{\"image\": \"img/3.txt\", \"audio\": \"wav/missing.txt\", \"label\": 3, "
                   "\"split\": \"test\"}\n"
                   "not json\n"
                   "{\"image\": \"img/1.txt\", \"label\": 11}\n"
                   "{\"image\": \"img/empty.txt\", \"audio\": \"wav/shared.txt\"}\n");
}

TEST(Check, ReportsEveryProblemWithoutDecoders) {
  TempDir dir;
  CheckOptions o;
  o.num_classes = 10;
  auto r = check_manifest(write_checkable(dir), o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->lines, 6);
  EXPECT_EQ(r->good_lines, 1);  // only line 1
  EXPECT_EQ(
      r->problems_by_reason,
      (std::map<std::string, int64_t>{
          {"bad_line", 1}, {"label_out_of_range", 1}, {"missing_file", 2}, {"empty_file", 1}}));
  bool saw_shared_missing = false;
  for (const BadSample& b : r->problems) {
    if (b.where.find("wav/missing.txt") != std::string::npos) {
      saw_shared_missing = true;
      EXPECT_NE(b.message.find("used by 2 lines, first line 2"), std::string::npos) << b.message;
    }
  }
  EXPECT_TRUE(saw_shared_missing);
  EXPECT_EQ(r->lines_by_split,
            (std::map<std::string, int64_t>{{"", 2}, {"test", 1}, {"train", 2}}));
  EXPECT_EQ(r->lines_by_modality.at("image"), 5);
  EXPECT_EQ(r->lines_by_modality.at("audio"), 4);
  EXPECT_EQ(r->files_by_modality.at("image"), 2);  // img/1.txt, img/3.txt (not decoded)
  EXPECT_EQ(r->files_by_modality.at("audio"), 1);
  EXPECT_EQ(r->not_decoded, (std::vector<std::string>{"audio", "image", "text"}));
  EXPECT_FALSE(r->ok());
  EXPECT_NE(r->summary().find("6 lines, 1 good, 5 problems"), std::string::npos) << r->summary();
  EXPECT_EQ(r->to_json()["problems"].size(), 5u);
}

TEST(Check, DecodersFindUndecodableFilesAndInlineValues) {
  TempDir dir;
  CheckOptions o;
  o.decoders["image"] = testing::number_decoder();
  o.decoders["text"] = [](const std::string& t, const DecodeOptions&) -> absl::StatusOr<Sample> {
    if (t == "a") return absl::InvalidArgumentError("not valid text");
    return Sample{};
  };
  o.threads = 3;
  auto r = check_manifest(write_checkable(dir), o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->problems_by_reason.at("decode_error"), 2);  // img/3.txt and line 1's text
  EXPECT_EQ(r->decoded_by_modality.at("image"), 1);
  EXPECT_EQ(r->not_decoded, (std::vector<std::string>{"audio"}));
  EXPECT_EQ(r->good_lines, 1);  // line 5: no num_classes here, so label 11 is fine
}

TEST(Check, CleanManifestIsOk) {
  TempDir dir;
  auto r = check_manifest(testing::write_numbered(dir, 12), CheckOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->good_lines, 12);
  EXPECT_FALSE(check_manifest(dir.path() + "/absent.jsonl", CheckOptions{}).ok());
}

}  // namespace
}  // namespace chorus::data
