#include "core/data/loader.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "data_test_util.h"

namespace chorus::data {
namespace {

using testing::drain;
using testing::number_codecs;
using testing::single_source;
using testing::TempDir;
using testing::values;
using testing::write_numbered;

std::unique_ptr<Loader> make(std::shared_ptr<const MixedSource> src,
                             std::map<std::string, Codec> codecs, const LoaderOptions& o,
                             std::optional<Cursor> resume = {}) {
  auto l = Loader::create(std::move(src), std::move(codecs), o, resume);
  EXPECT_TRUE(l.ok()) << l.status();
  return l.ok() ? *std::move(l) : nullptr;
}

TEST(Loader, DeliversTheEpochOrderInBatchesWhateverTheThreadTiming) {
  TempDir dir;
  auto src = single_source(write_numbered(dir, 50));
  // The reference: the source's own epoch orders, cut into batches of 8.
  std::vector<int64_t> expected;
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    for (const SampleRef& r : src->epoch_order(5, epoch)) expected.push_back(r.index);
  }
  // A decoder whose speed varies by sample, so workers finish out of order.
  DecodeFn slow = [inner = testing::number_decoder()](const std::string& p,
                                                      const DecodeOptions& o) {
    auto s = inner(p, o);
    std::this_thread::sleep_for(std::chrono::microseconds(((o.seed >> 7) % 5) * 300));
    return s;
  };
  for (int workers : {1, 3, 4}) {
    LoaderOptions o;
    o.batch_size = 8;
    o.workers = workers;
    o.prefetch = workers + 1;
    o.seed = 5;
    o.max_epochs = 2;
    auto l = make(src, {{"image", {slow, stack_collate}}}, o);
    std::vector<int64_t> got;
    std::vector<int64_t> sizes;
    for (;;) {
      auto b = l->next();
      ASSERT_TRUE(b.ok()) << b.status();
      if (!b->has_value()) break;
      sizes.push_back((*b)->size);
      for (int64_t v : values(**b)) got.push_back(v);
    }
    EXPECT_EQ(got, expected) << workers << " workers";
    // 50 = 6 x 8 + 2 per epoch; the last, short batch is kept (drop_last off).
    EXPECT_EQ(sizes, (std::vector<int64_t>{8, 8, 8, 8, 8, 8, 2, 8, 8, 8, 8, 8, 8, 2}));
    EXPECT_FALSE(l->next()->has_value());  // stays at the end
  }
}

TEST(Loader, BatchCarriesLabelsIdsRefsAndPerSampleSeeds) {
  TempDir dir;
  auto src = single_source(write_numbered(dir, 20));
  LoaderOptions o;
  o.batch_size = 6;
  o.seed = 99;
  o.augment = true;
  o.max_epochs = 1;
  std::vector<DecodeOptions> seen(20);
  DecodeFn record = [&](const std::string& p, const DecodeOptions& opts) {
    auto s = testing::number_decoder()(p, opts);
    seen[s->tensors.at("value").item()] = opts;
    return s;
  };
  auto l = make(src, {{"image", {record, stack_collate}}}, o);
  auto b = l->next();
  ASSERT_TRUE(b.ok() && b->has_value());
  const LoadedBatch& batch = **b;
  ASSERT_EQ(batch.size, 6);
  const auto order = src->epoch_order(99, 0);
  const auto v = values(batch);
  const auto labels = batch.labels.to_vector<int64_t>();
  for (int64_t i = 0; i < 6; ++i) {
    EXPECT_EQ(v[i], order[i].index);
    EXPECT_EQ(labels[i], v[i] % 10);
    EXPECT_EQ(batch.ids[i], absl::StrCat("s", v[i]));
    EXPECT_EQ(batch.refs[i], order[i]);
    EXPECT_EQ(batch.seeds[i], mix_seed(99, 0, static_cast<uint64_t>(i)));
    EXPECT_EQ(seen[v[i]].seed, batch.seeds[i]);
    EXPECT_TRUE(seen[v[i]].augment);
  }
  EXPECT_EQ(batch.epoch, 0);
  EXPECT_EQ(batch.index, 0);
  EXPECT_EQ(batch.labels.dtype(), DType::kI64);
}

TEST(Loader, PrefetchQueueIsBounded) {
  TempDir dir;
  auto src = single_source(write_numbered(dir, 40));
  std::atomic<int> calls{0};
  LoaderOptions o;
  o.batch_size = 1;
  o.workers = 4;
  o.prefetch = 2;
  auto l = make(src, number_codecs(&calls), o);
  // Without a consumer, the workers stop after `prefetch` batches.
  for (int i = 0; i < 5000 && calls < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(calls.load(), 2);
  ASSERT_TRUE(l->next().ok());
  for (int i = 0; i < 5000 && calls < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(calls.load(), 3);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(l->next().ok());
  EXPECT_LE(l->stats().max_in_flight, 2);
  EXPECT_GE(l->stats().max_in_flight, 1);
}

TEST(Loader, RanksTogetherSeeEveryIndexOncePerEpoch) {
  TempDir dir;
  auto src = single_source(write_numbered(dir, 37));
  std::multiset<int64_t> all;
  for (int64_t rank = 0; rank < 3; ++rank) {
    LoaderOptions o;
    o.batch_size = 4;
    o.seed = 1;
    o.max_epochs = 1;
    o.sharding = {rank, 3, false};
    auto l = make(src, number_codecs(), o);
    for (int64_t v : drain(*l)) all.insert(v);
  }
  ASSERT_EQ(all.size(), 37u);
  for (int64_t i = 0; i < 37; ++i) EXPECT_EQ(all.count(i), 1u) << i;
}

TEST(Loader, DropLastDropsTheShortBatch) {
  TempDir dir;
  auto src = single_source(write_numbered(dir, 10));
  LoaderOptions o;
  o.batch_size = 4;
  o.drop_last = true;
  o.max_epochs = 2;
  auto l = make(src, number_codecs(), o);
  EXPECT_EQ(drain(*l).size(), 16u);
}

TEST(Loader, SamplesMissingAModalityAreGroupedPerModality) {
  TempDir dir;
  dir.write("a.txt", "1");
  dir.write("b.txt", "2");
  const std::string m = dir.write("m.jsonl", R"({"image": "a.txt", "text": "x", "label": 1})"
                                             "\n"
                                             R"({"text": "yy", "label": 2})"
                                             "\n"
                                             R"({"image": "b.txt"})"
                                             "\n");
  auto src = single_source(m);
  auto codecs = number_codecs();
  codecs["text"] = {[](const std::string& text, const DecodeOptions&) -> absl::StatusOr<Sample> {
                      Sample s;
                      s.tensors["len"] =
                          Tensor::from_vector<int64_t>({static_cast<int64_t>(text.size())}, {1});
                      return s;
                    },
                    stack_collate};
  LoaderOptions o;
  o.batch_size = 3;
  o.shuffle = false;
  auto l = make(src, codecs, o);
  auto b = l->next();
  ASSERT_TRUE(b.ok() && b->has_value()) << b.status();
  const LoadedBatch& batch = **b;
  ASSERT_EQ(batch.size, 3);
  EXPECT_EQ(batch.labels.to_vector<int64_t>(), (std::vector<int64_t>{1, 2, -1}));
  const ModalityBatch& img = batch.modalities.at("image");
  EXPECT_EQ(img.rows, (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(img.batch.size, 2);
  EXPECT_EQ(img.batch.tensors.at("value").to_vector<int64_t>(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(img.present.to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 1}));
  const ModalityBatch& txt = batch.modalities.at("text");
  EXPECT_EQ(txt.rows, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(txt.batch.tensors.at("len").to_vector<int64_t>(), (std::vector<int64_t>{1, 2}));
  // Requiring both modalities turns the partial lines into bad samples.
  o.required_modalities = {"image", "text"};
  std::vector<BadSample> bad;
  o.on_bad = [&](const BadSample& s) { bad.push_back(s); };
  l = make(src, codecs, o);
  b = l->next();
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ((*b)->size, 1);
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_EQ(bad[0].reason, BadReason::kMissingModality);
}

TEST(Loader, CollatorErrorStopsTheRunWithAClearMessage) {
  TempDir dir;
  auto src = single_source(write_numbered(dir, 4));
  LoaderOptions o;
  o.batch_size = 2;
  auto l = make(src,
                {{"image",
                  {testing::number_decoder(),
                   [](const std::vector<Sample>&) -> absl::StatusOr<Batch> {
                     return absl::InvalidArgumentError("shapes differ");
                   }}}},
                o);
  auto b = l->next();
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("collating \"image\" for batch 0 of epoch 0: shapes differ"),
            std::string::npos)
      << b.status();
  EXPECT_FALSE(l->next().ok());  // stays failed
}

TEST(Loader, RejectsBadOptions) {
  TempDir dir;
  auto src = single_source(write_numbered(dir, 4));
  LoaderOptions o;
  o.sharding = {3, 2, false};
  EXPECT_FALSE(Loader::create(src, number_codecs(), o).ok());
  o = {};
  o.batch_size = 0;
  EXPECT_FALSE(Loader::create(src, number_codecs(), o).ok());
  o = {};
  o.batch_size = 5;
  o.drop_last = true;  // 4 samples never make a batch of 5
  auto l = Loader::create(src, number_codecs(), o);
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.status().message().find("fewer than one batch"), std::string::npos);
  EXPECT_FALSE(Loader::create(src, {}, LoaderOptions{}).ok());
}

}  // namespace
}  // namespace chorus::data
