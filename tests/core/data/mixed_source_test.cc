#include "core/data/mixed_source.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "data_test_util.h"

namespace chorus::data {
namespace {

Manifest numbered(int n, const std::string& name = "m.jsonl") {
  std::string text;
  for (int i = 0; i < n; ++i) text += absl::StrCat(R"({"text": "t)", i, "\"}\n");
  return parse_manifest(text, name);
}

std::vector<int64_t> indices(const std::vector<SampleRef>& refs) {
  std::vector<int64_t> out;
  for (const SampleRef& r : refs) out.push_back(r.index);
  return out;
}

TEST(Permutation, IsAPermutationAndDependsOnTheKey) {
  const auto a = permutation(1000, 1), b = permutation(1000, 2);
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) ASSERT_EQ(sorted[i], i);
  EXPECT_NE(a, b);
  EXPECT_EQ(a, permutation(1000, 1));
  // Uniformity: over many keys, element 0 lands in each of 4 slots about equally often.
  std::vector<int> where(4, 0);
  for (uint64_t key = 0; key < 4000; ++key) {
    const auto p = permutation(4, key);
    ++where[std::find(p.begin(), p.end(), 0) - p.begin()];
  }
  for (int c : where) EXPECT_NEAR(c, 1000, 120);  // ~4 sigma
}

TEST(MixedSource, ShuffleIsDeterministicPerSeedAndEpochAndEpochsDiffer) {
  auto s = MixedSource::single(numbered(500));
  ASSERT_TRUE(s.ok());
  const auto e0 = indices(s->epoch_order(7, 0));
  EXPECT_EQ(e0, indices(s->epoch_order(7, 0)));
  EXPECT_NE(e0, indices(s->epoch_order(7, 1)));
  EXPECT_NE(e0, indices(s->epoch_order(8, 0)));
  for (int64_t epoch : {0, 1, 5}) {
    auto order = indices(s->epoch_order(7, epoch));
    std::sort(order.begin(), order.end());
    for (int64_t i = 0; i < 500; ++i) ASSERT_EQ(order[i], i) << "epoch " << epoch;
  }
  // No shuffle: file order.
  const auto plain = indices(s->epoch_order(7, 3, /*shuffle=*/false));
  for (int64_t i = 0; i < 500; ++i) ASSERT_EQ(plain[i], i);
  // Positions are the global order's positions.
  const auto refs = s->epoch_order(7, 0);
  for (int64_t i = 0; i < 500; ++i) ASSERT_EQ(refs[i].position, i);
}

TEST(MixedSource, WeightsGiveTheEmpiricalFrequencies) {
  std::vector<MixedSource::Part> parts;
  parts.push_back({numbered(100, "a.jsonl"), 3.0});
  parts.push_back({numbered(1000, "b.jsonl"), 1.0});
  parts.push_back({numbered(10, "c.jsonl"), 0.5});
  auto s = MixedSource::create(std::move(parts), 45000);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->epoch_size(), 45000);
  std::vector<int64_t> count(3, 0);
  std::vector<std::vector<int64_t>> seen(3);
  for (const SampleRef& r : s->epoch_order(11, 0)) {
    ++count[r.source];
    seen[r.source].push_back(r.index);
  }
  // Expected 3/4.5, 1/4.5, 0.5/4.5 of 45000; binomial sigma < 100.
  EXPECT_NEAR(count[0], 30000, 400);
  EXPECT_NEAR(count[1], 10000, 400);
  EXPECT_NEAR(count[2], 5000, 400);
  // Within a manifest, each pass over its entries is a permutation: the small, oversampled
  // manifest "a" shows every entry once in each block of 100 draws.
  for (size_t block = 0; block + 100 <= seen[0].size(); block += 100) {
    std::set<int64_t> distinct(seen[0].begin() + block, seen[0].begin() + block + 100);
    ASSERT_EQ(distinct.size(), 100u) << "block " << block;
  }
  // Different epochs mix differently.
  EXPECT_NE(indices(s->epoch_order(11, 0)), indices(s->epoch_order(11, 1)));
}

TEST(MixedSource, RejectsBadWeightsAndEmptyManifests) {
  std::vector<MixedSource::Part> parts;
  parts.push_back({numbered(5), 0.0});
  auto s = MixedSource::create(std::move(parts));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("weight must be > 0"), std::string::npos);
  std::vector<MixedSource::Part> empty;
  empty.push_back({parse_manifest("{\"nope\": 1}\n", "empty.jsonl"), 1.0});
  s = MixedSource::create(std::move(empty));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("empty.jsonl: no usable samples (1 bad lines"),
            std::string::npos)
      << s.status();
}

TEST(Shard, RanksPartitionTheEpochExactly) {
  auto s = MixedSource::single(numbered(103));
  ASSERT_TRUE(s.ok());
  const auto order = s->epoch_order(3, 2);
  for (int64_t world : {1, 2, 3, 4, 8}) {
    std::vector<int> hits(103, 0);
    size_t total = 0;
    for (int64_t rank = 0; rank < world; ++rank) {
      const auto part = shard(order, {rank, world, false});
      total += part.size();
      for (const SampleRef& r : part) ++hits[r.index];
      // Each rank keeps the global order's relative order.
      for (size_t i = 1; i < part.size(); ++i) ASSERT_LT(part[i - 1].position, part[i].position);
    }
    EXPECT_EQ(total, 103u);
    for (int i = 0; i < 103; ++i) ASSERT_EQ(hits[i], 1) << "world " << world << " index " << i;
  }
  // Even sharding: equal counts, at most world-1 samples left out.
  for (int64_t rank = 0; rank < 4; ++rank) EXPECT_EQ(shard(order, {rank, 4, true}).size(), 25u);
}

}  // namespace
}  // namespace chorus::data

namespace chorus::data {
namespace {

TEST(MixedSource, OpenReadsManifestFilesWithTheSplitFilter) {
  testing::TempDir dir;
  const std::string a = dir.write("a.jsonl",
                                  "{\"text\": \"x\", \"split\": \"train\"}\n"
                                  "{\"text\": \"y\", \"split\": \"test\"}\n");
  const std::string b = dir.write("b.jsonl", "{\"text\": \"z\", \"split\": \"train\"}\n");
  ManifestOptions o;
  o.split = "train";
  auto s = MixedSource::open({{a, 2.0}, {b, 1.0}}, o);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->num_sources(), 2);
  EXPECT_EQ(s->epoch_size(), 2);
  EXPECT_EQ(s->weight(0), 2.0);
  auto missing = MixedSource::open({{a, 1.0}, {dir.path() + "/nope.jsonl", 1.0}}, o);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace chorus::data
