// The embedded sample under data/sample (made by `data/prepare --sample`): complete, balanced,
// well-formed files, and test voices disjoint from training voices.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "core/data/check.h"
#include "core/data/collate.h"
#include "core/data/loader.h"
#include "nlohmann/json.hpp"

namespace chorus::data {
namespace {

const std::string kSample = std::string(CHORUS_SOURCE_DIR) + "/data/sample";

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

uint32_t be32(const std::string& b, size_t at) {
  return uint32_t{uint8_t(b[at])} << 24 | uint32_t{uint8_t(b[at + 1])} << 16 |
         uint32_t{uint8_t(b[at + 2])} << 8 | uint32_t{uint8_t(b[at + 3])};
}
uint32_t le(const std::string& b, size_t at, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = v << 8 | uint8_t(b[at + i]);
  return v;
}

TEST(SampleData, ManifestsAreCompleteAndBalanced) {
  for (const auto& [split, per_class] : {std::pair<std::string, int>{"train", 20}, {"test", 10}}) {
    CheckOptions o;
    o.num_classes = 10;
    auto r = check_manifest(kSample + "/" + split + ".jsonl", o);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->ok()) << r->summary();
    EXPECT_EQ(r->lines, 10 * per_class);
    EXPECT_EQ(r->lines_by_split.at(split), 10 * per_class);
    ASSERT_EQ(r->lines_by_label.size(), 10u);
    for (const auto& [label, n] : r->lines_by_label) EXPECT_EQ(n, per_class) << label;
    for (const char* m : {"image", "audio", "text"})
      EXPECT_EQ(r->lines_by_modality.at(m), r->lines);
  }
}

TEST(SampleData, FilesAreWellFormedAndCaptionsNameTheClass) {
  const nlohmann::json classes = nlohmann::json::parse(read_bytes(kSample + "/classes.json"));
  ASSERT_EQ(classes["nouns"].size(), 10u);
  std::map<std::string, std::set<std::string>> voices;
  for (const std::string split : {"train", "test"}) {
    auto m = read_manifest(kSample + "/" + split + ".jsonl");
    ASSERT_TRUE(m.ok());
    for (const ManifestEntry& e : m->entries) {
      const std::string png = read_bytes(e.values.at("image"));
      ASSERT_GE(png.size(), 33u) << e.id;
      EXPECT_EQ(png.substr(1, 3), "PNG");
      EXPECT_EQ(png.substr(12, 4), "IHDR");
      EXPECT_EQ(be32(png, 16), 28u);  // width
      EXPECT_EQ(be32(png, 20), 28u);  // height
      EXPECT_EQ(png[25], 0) << "greyscale";
      const std::string wav = read_bytes(e.values.at("audio"));
      ASSERT_GE(wav.size(), 44u);
      EXPECT_EQ(wav.substr(0, 4), "RIFF");
      EXPECT_EQ(le(wav, 20, 2), 1u);      // PCM
      EXPECT_EQ(le(wav, 22, 2), 1u);      // mono
      EXPECT_EQ(le(wav, 24, 4), 16000u);  // Hz
      EXPECT_EQ(le(wav, 34, 2), 16u);     // bits
      const double seconds = le(wav, 40, 4) / 32000.0;
      EXPECT_GT(seconds, 0.4) << e.values.at("audio");
      EXPECT_LT(seconds, 4.0) << e.values.at("audio");
      const std::string noun = classes["nouns"][*e.label];
      EXPECT_NE(e.values.at("text").find(noun), std::string::npos) << e.values.at("text");
      EXPECT_EQ(e.extra["class_name"], classes["classes"][*e.label]);
      voices[split].insert(e.extra["voice"].get<std::string>());
    }
  }
  for (const std::string& v : voices["test"]) EXPECT_EQ(voices["train"].count(v), 0u) << v;
}

TEST(SampleData, LoaderVisitsTheWholeSampleOncePerEpoch) {
  auto m = read_manifest(kSample + "/train.jsonl");
  ASSERT_TRUE(m.ok());
  auto src = MixedSource::single(*std::move(m));
  ASSERT_TRUE(src.ok());
  Codec size_only{[](const std::string& path, const DecodeOptions&) -> absl::StatusOr<Sample> {
                    Sample s;
                    s.tensors["bytes"] = Tensor::from_vector<int64_t>(
                        {static_cast<int64_t>(read_bytes(path).size())}, {1});
                    return s;
                  },
                  stack_collate};
  LoaderOptions o;
  o.batch_size = 64;
  o.max_epochs = 1;
  auto l = Loader::create(std::make_shared<const MixedSource>(*std::move(src)),
                          {{"image", size_only}, {"audio", size_only}}, o);
  ASSERT_TRUE(l.ok()) << l.status();
  std::set<std::string> ids;
  for (;;) {
    auto b = (*l)->next();
    ASSERT_TRUE(b.ok()) << b.status();
    if (!b->has_value()) break;
    EXPECT_EQ((*b)->modalities.at("audio").rows.size(), static_cast<size_t>((*b)->size));
    ids.insert((*b)->ids.begin(), (*b)->ids.end());
  }
  EXPECT_EQ(ids.size(), 200u);
  EXPECT_EQ((*l)->stats().bad_samples, 0);
}

}  // namespace
}  // namespace chorus::data
