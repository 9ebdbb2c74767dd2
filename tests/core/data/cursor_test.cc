// Resuming from a data cursor gives exactly the batches an uninterrupted loader gives.
#include "core/data/cursor.h"

#include <gtest/gtest.h>

#include "data_test_util.h"

namespace chorus::data {
namespace {

using testing::number_codecs;
using testing::single_source;
using testing::TempDir;
using testing::values;
using testing::write_numbered;

struct Seen {
  int64_t epoch, index;
  std::vector<int64_t> values, seeds;
  bool operator==(const Seen&) const = default;
};

Seen take(Loader& l) {
  auto b = l.next();
  EXPECT_TRUE(b.ok() && b->has_value()) << b.status();
  const LoadedBatch& batch = **b;
  return {batch.epoch, batch.index, values(batch),
          batch.modalities.at("image").batch.tensors.at("seed").to_vector<int64_t>()};
}

TEST(Cursor, JsonRoundTripAndValidation) {
  Cursor c{0xFFFFFFFFFFFFFFF0ull, 3, 17, 1, 4, 0x123456789ABCDEF0ull};
  const std::string text = c.to_json().dump();
  auto back = Cursor::from_json(nlohmann::json::parse(text));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, c);
  auto broken = c.to_json();
  broken["position"] = -1;
  EXPECT_NE(Cursor::from_json(broken).status().message().find("\"position\" must be >= 0"),
            std::string::npos);
  broken = c.to_json();
  broken["seed"] = 5;  // a number, not the decimal string
  EXPECT_NE(Cursor::from_json(broken).status().message().find("\"seed\""), std::string::npos);
  broken = c.to_json();
  broken.erase("epoch");
  EXPECT_FALSE(Cursor::from_json(broken).ok());
  broken = c.to_json();
  broken["rank"] = 4;
  EXPECT_FALSE(Cursor::from_json(broken).ok());
  EXPECT_FALSE(Cursor::from_json(nlohmann::json::array()).ok());
}

TEST(Cursor, ResumeGivesTheSameNextBatchesAcrossEpochBoundaries) {
  TempDir dir;
  auto src = single_source(write_numbered(dir, 23));
  LoaderOptions o;
  o.batch_size = 5;  // 23 = 4 x 5 + 3: epochs end on a short batch
  o.workers = 3;
  o.seed = 1234;
  o.augment = true;
  // Uninterrupted reference run: 14 batches (> 2 epochs).
  auto ref_loader = Loader::create(src, number_codecs(), o);
  ASSERT_TRUE(ref_loader.ok());
  std::vector<Seen> reference;
  for (int i = 0; i < 14; ++i) reference.push_back(take(**ref_loader));
  // Interrupt after every k, save the cursor as JSON text, resume in a fresh loader.
  for (int k : {0, 1, 4, 5, 7, 9, 10}) {
    auto a = Loader::create(src, number_codecs(), o);
    ASSERT_TRUE(a.ok());
    for (int i = 0; i < k; ++i) ASSERT_EQ(take(**a), reference[i]) << "batch " << i;
    const std::string saved = (*a)->cursor().to_json().dump();
    a->reset();  // the first loader is gone (workers may have prefetched beyond k)
    auto cursor = Cursor::from_json(nlohmann::json::parse(saved));
    ASSERT_TRUE(cursor.ok());
    auto b = Loader::create(src, number_codecs(), o, *cursor);
    ASSERT_TRUE(b.ok()) << b.status();
    for (int i = k; i < 14; ++i)
      ASSERT_EQ(take(**b), reference[i]) << "resumed at " << k << ", batch " << i;
  }
}

TEST(Cursor, CursorCountsSamplesSoABatchSizeChangeContinuesWhereItStopped) {
  TempDir dir;
  auto src = single_source(write_numbered(dir, 30));
  LoaderOptions o;
  o.batch_size = 4;
  o.seed = 3;
  auto a = Loader::create(src, number_codecs(), o);
  ASSERT_TRUE(a.ok());
  take(**a);
  take(**a);
  const Cursor c = (*a)->cursor();
  EXPECT_EQ(c.epoch, 0);
  EXPECT_EQ(c.position, 8);
  o.batch_size = 7;
  auto b = Loader::create(src, number_codecs(), o, c);
  ASSERT_TRUE(b.ok());
  const auto order = src->epoch_order(3, 0);
  const Seen s = take(**b);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(s.values[i], order[8 + i].index);
}

TEST(Cursor, ResumeOnOtherDataSeedOrShardingIsRefused) {
  TempDir dir;
  auto src = single_source(write_numbered(dir, 30));
  auto other = single_source(write_numbered(dir, 31, "other.jsonl"));
  LoaderOptions o;
  o.seed = 3;
  auto a = Loader::create(src, number_codecs(), o);
  ASSERT_TRUE(a.ok());
  const Cursor c = (*a)->cursor();
  auto r = Loader::create(other, number_codecs(), o, c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("different data"), std::string::npos);
  LoaderOptions seed4 = o;
  seed4.seed = 4;
  r = Loader::create(src, number_codecs(), seed4, c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("seed 3"), std::string::npos);
  LoaderOptions sharded = o;
  sharded.sharding = {0, 2, false};
  EXPECT_FALSE(Loader::create(src, number_codecs(), sharded, c).ok());
}

}  // namespace
}  // namespace chorus::data
