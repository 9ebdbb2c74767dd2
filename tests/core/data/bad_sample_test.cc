// Bad samples: skipped, counted and reported with path and reason, or fatal under `fail`.
#include <gtest/gtest.h>

#include "core/data/loader.h"
#include "data_test_util.h"

namespace chorus::data {
namespace {

using testing::number_codecs;
using testing::single_source;
using testing::TempDir;

// Lines: 1 good, 2 missing file, 3 corrupt content, 4 bad JSON, 5 label 12 (>= 10 classes),
// 6 good, 7 good.
std::string write_mixed_quality(const TempDir& dir) {
  dir.write("img/1.txt", "1");
  dir.write("img/3.txt", "bad");
  dir.write("img/5.txt", "5");
  dir.write("img/6.txt", "6");
  dir.write("img/7.txt", "7");
  return dir.write("m.jsonl",
                   "{\"image\": \"img/1.txt\", \"label\": 1}\n"
                   "{\"image\": \"img/2.txt\", \"label\": 2}\n"
                   "{\"image\": \"img/3.txt\", \"label\": 3}\n"
                   "{\"image\": \"img/4.txt\", \"label\": \n"
                   "{\"image\": \"img/5.txt\", \"label\": 12}\n"
                   "{\"image\": \"img/6.txt\", \"label\": 6}\n"
                   "{\"image\": \"img/7.txt\", \"label\": 7}\n");
}

TEST(BadSamples, SkippedCountedAndReportedWithPathAndReason) {
  TempDir dir;
  auto src = single_source(write_mixed_quality(dir));
  std::vector<BadSample> reported;
  LoaderOptions o;
  o.batch_size = 3;
  o.shuffle = false;
  o.num_classes = 10;
  o.max_epochs = 1;
  o.on_bad = [&](const BadSample& b) { reported.push_back(b); };
  auto l = Loader::create(src, number_codecs(), o);
  ASSERT_TRUE(l.ok()) << l.status();
  // The bad JSON line is reported when the loader starts.
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0].reason, BadReason::kBadLine);
  EXPECT_NE(reported[0].where.find("m.jsonl:4"), std::string::npos);
  // Batches are fixed slices of the order [1,2,3 | 5,6,7] with bad samples dropped.
  std::vector<std::vector<int64_t>> got;
  for (;;) {
    auto b = (*l)->next();
    ASSERT_TRUE(b.ok()) << b.status();
    if (!b->has_value()) break;
    got.push_back(testing::values(**b));
  }
  EXPECT_EQ(got, (std::vector<std::vector<int64_t>>{{1}, {6, 7}}));
  ASSERT_EQ(reported.size(), 4u);
  EXPECT_EQ(reported[1].reason, BadReason::kMissingFile);
  EXPECT_NE(reported[1].where.find("img/2.txt"), std::string::npos);
  EXPECT_EQ(reported[2].reason, BadReason::kDecodeError);
  EXPECT_NE(reported[2].where.find("img/3.txt"), std::string::npos);
  EXPECT_NE(reported[2].message.find("corrupt content"), std::string::npos);
  EXPECT_EQ(reported[3].reason, BadReason::kLabelOutOfRange);
  EXPECT_NE(reported[3].message.find("label 12 out of range [0, 10)"), std::string::npos);
  const LoaderStats s = (*l)->stats();
  EXPECT_EQ(s.samples, 3);
  EXPECT_EQ(s.batches, 2);
  EXPECT_EQ(s.bad_samples, 4);
  EXPECT_EQ(
      s.bad_by_reason,
      (std::map<std::string, int64_t>{
          {"bad_line", 1}, {"missing_file", 1}, {"decode_error", 1}, {"label_out_of_range", 1}}));
  const nlohmann::json j = s.to_json();
  EXPECT_EQ(j["bad_samples"], 4);
  EXPECT_TRUE(j.contains("samples_per_second"));
  EXPECT_TRUE(j.contains("wait_seconds"));
}

TEST(BadSamples, FailPolicyStopsAtABadManifestLine) {
  TempDir dir;
  auto src = single_source(write_mixed_quality(dir));
  LoaderOptions o;
  o.on_bad_sample = BadSamplePolicy::kFail;
  auto l = Loader::create(src, number_codecs(), o);
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.status().message().find("m.jsonl:4: invalid JSON"), std::string::npos) << l.status();
  EXPECT_NE(l.status().message().find("on_bad_sample: fail"), std::string::npos);
}

TEST(BadSamples, FailPolicyStopsAtTheFirstBadSampleInOrder) {
  TempDir dir;
  dir.write("a.txt", "1");
  dir.write("c.txt", "bad");
  const std::string m = dir.write("m.jsonl",
                                  "{\"image\": \"a.txt\"}\n{\"image\": \"a.txt\"}\n"
                                  "{\"image\": \"a.txt\"}\n{\"image\": \"c.txt\"}\n");
  auto src = single_source(m);
  LoaderOptions o;
  o.batch_size = 2;
  o.shuffle = false;
  o.workers = 2;
  o.on_bad_sample = BadSamplePolicy::kFail;
  o.on_bad = [](const BadSample&) {};
  auto l = Loader::create(src, number_codecs(), o);
  ASSERT_TRUE(l.ok());
  auto first = (*l)->next();
  ASSERT_TRUE(first.ok() && first->has_value()) << first.status();  // batch 0 is clean
  auto second = (*l)->next();
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("c.txt"), std::string::npos) << second.status();
  EXPECT_NE(second.status().message().find("decode_error"), std::string::npos);
  EXPECT_NE(second.status().message().find("corrupt content"), std::string::npos);
}

TEST(BadSamples, PolicyNamesParse) {
  EXPECT_EQ(*parse_bad_sample_policy("skip"), BadSamplePolicy::kSkip);
  EXPECT_EQ(*parse_bad_sample_policy("fail"), BadSamplePolicy::kFail);
  auto bad = parse_bad_sample_policy("ignore");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("\"ignore\""), std::string::npos);
}

TEST(BadSamples, ExceptionsFromADecoderAreBadSamplesNotCrashes) {
  TempDir dir;
  auto src = single_source(testing::write_numbered(dir, 3));
  const Codec throwing{[](const std::string&, const DecodeOptions&) -> absl::StatusOr<Sample> {
                         throw std::runtime_error("boom");
                       },
                       stack_collate};
  // A whole epoch without one good sample is an error (whatever max_epochs says), not an
  // endless search or a silent empty run.
  for (int64_t epochs : {0, 1}) {
    LoaderOptions o;
    o.on_bad = [](const BadSample&) {};
    o.batch_size = 2;
    o.max_epochs = epochs;
    auto l = Loader::create(src, {{"image", throwing}}, o);
    ASSERT_TRUE(l.ok());
    auto b = (*l)->next();
    ASSERT_FALSE(b.ok());
    EXPECT_NE(b.status().message().find("whole epoch"), std::string::npos) << b.status();
    EXPECT_EQ((*l)->stats().bad_by_reason.at("decode_error"), 3);
  }
}

}  // namespace
}  // namespace chorus::data
