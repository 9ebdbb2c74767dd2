// save_checkpoint / load_checkpoint: layout, round trips of tensors and state, retention,
// atomic replacement of an existing step, and errors for unusable roots and bad arguments.
#include "core/train/checkpoint.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <limits>
#include <regex>

#include "checkpoint_test_util.h"
#include "core/io/safetensors.h"
#include "core/train/checkpoint_fs.h"
#include "core/version.h"

namespace chorus::train {
namespace {

using ::chorus::testing::MessageHas;
using ::chorus::testing::read_file;
using ::chorus::testing::same_bytes;
using ::chorus::testing::save_step;
using ::chorus::testing::state_at;
using ::chorus::testing::tagged_model;
using ::chorus::testing::tagged_optimizer;
using ::chorus::testing::TempRoot;
using Strings = std::vector<std::string>;

TEST(Checkpoint, DirectoryNames) {
  EXPECT_EQ(checkpoint_dir_name(0), "step-00000000");
  EXPECT_EQ(checkpoint_dir_name(1200), "step-00001200");
  EXPECT_EQ(checkpoint_dir_name(123456789), "step-123456789");
}

TEST(Checkpoint, RoundTripsTensorsOfSeveralDtypesAndEveryStateField) {
  TempRoot root;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> uniform(-3, 3);
  std::vector<float> f32(37);
  for (float& v : f32) v = uniform(rng);  // arbitrary bit patterns, not round numbers
  const nn::NamedTensors model = {
      {"blocks.0.w", Tensor::from_vector<float>(f32, {37})},
      {"blocks.0.w_f64", Tensor::from_doubles({1.0 / 3, -2.5e-300, 7}, {3, 1}, DType::kF64)},
      {"blocks.0.bf16", Tensor::from_doubles({0.5, -1.25, 3, 1e-3}, {2, 2}, DType::kBF16)},
      {"blocks.0.f16", Tensor::from_doubles({65504, -0.1}, {2}, DType::kF16)},
      {"embed.ids", Tensor::from_vector<int64_t>({std::numeric_limits<int64_t>::min(), 5}, {2})},
      {"mask", Tensor::from_vector<uint8_t>({0, 255, 7}, {3})},
      {"scalar", Tensor::scalar(2.5, DType::kF32)},
      {"empty", Tensor::zeros({0, 4}, DType::kI32)},
      // A non-contiguous view is saved contiguous.
      {"transposed", Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3}).transpose(0, 1)},
  };
  const nn::NamedTensors optimizer = {
      {"blocks.0.w.exp_avg", Tensor::from_vector<float>(f32, {37, 1})},
      {"blocks.0.w.exp_avg_sq", Tensor::from_doubles({1e-8, 2}, {2}, DType::kF32)},
      {"step", Tensor::from_vector<int64_t>({1200}, {})},
  };
  CheckpointState state;
  state.step = 1200;
  state.stage = "cluster";
  state.rng["data"] = {std::numeric_limits<uint64_t>::max(), 123456789012345ULL};
  state.rng["dropout"] = {0, 0};
  state.data_cursor = {{"epoch", 2}, {"shard", "part-0003"}, {"offsets", {1, 2, 3}}};
  state.config = "model:\n  width: 64   # caf\xc3\xa9\n\"quoted\"\n";
  state.extra = {{"loss_scale", 65536.0}};
  state.engine_version = "ignored";  // set by save

  const auto before = std::chrono::system_clock::now();
  auto dir = save_checkpoint(root.path(), model, optimizer, state, 3);
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(*dir, root / "step-00001200");
  EXPECT_EQ(root.entries(), Strings{"step-00001200"});
  Strings files;
  for (const auto& e : std::filesystem::directory_iterator(*dir))
    files.push_back(e.path().filename());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files,
            (Strings{"manifest.json", "model.safetensors", "optimizer.safetensors", "state.json"}));

  auto loaded = load_checkpoint(*dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->dir, *dir);
  ASSERT_EQ(loaded->model.size(), model.size());
  for (const auto& [name, t] : model) {
    ASSERT_TRUE(loaded->model.count(name)) << name;
    EXPECT_TRUE(same_bytes(loaded->model.at(name), t)) << name;
  }
  ASSERT_EQ(loaded->optimizer.size(), optimizer.size());
  for (const auto& [name, t] : optimizer) {
    ASSERT_TRUE(loaded->optimizer.count(name)) << name;
    EXPECT_TRUE(same_bytes(loaded->optimizer.at(name), t)) << name;
  }

  const CheckpointState& s = loaded->state;
  EXPECT_EQ(s.step, 1200);
  EXPECT_EQ(s.stage, "cluster");
  EXPECT_EQ(s.rng, state.rng);
  EXPECT_EQ(s.data_cursor, state.data_cursor);
  EXPECT_EQ(s.config, state.config);
  EXPECT_EQ(s.extra, state.extra);
  EXPECT_EQ(s.engine_version, kVersion);
  EXPECT_EQ(s.git_revision, kGitRevision);
  EXPECT_TRUE(std::regex_match(s.saved_at, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << s.saved_at;
  const int64_t before_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(before.time_since_epoch()).count();
  EXPECT_GE(s.saved_at_unix_ms, before_ms);
  EXPECT_LT(s.saved_at_unix_ms, before_ms + 10 * 60 * 1000);

  // The weights stay readable as plain safetensors with the PyTorch format tag.
  auto st = SafetensorsFile::Open(*dir + "/model.safetensors");
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->metadata().at("format"), "pt");
}

TEST(Checkpoint, EmptyOptimizerStateRoundTrips) {
  TempRoot root;
  auto dir = save_checkpoint(root.path(), tagged_model(1), {}, state_at(1), 0);
  ASSERT_TRUE(dir.ok()) << dir.status();
  auto loaded = load_checkpoint(*dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(loaded->optimizer.empty());
  EXPECT_EQ(loaded->model.size(), 2u);
}

TEST(Checkpoint, KeepLastDeletesExactlyTheOlderOnes) {
  TempRoot root;
  // Things that are not checkpoints must survive retention untouched.
  std::filesystem::create_directory(root / "step-1");  // not canonical
  std::filesystem::create_directory(root / "notes");
  testing::write_file(root / "step-00000000", "a file, not a directory");
  for (int64_t step = 1; step <= 5; ++step) save_step(root.path(), step, /*keep_last=*/2);
  EXPECT_EQ(root.entries(),
            (Strings{"notes", "step-00000000", "step-00000004", "step-00000005", "step-1"}));
  // keep_last = 1 keeps only the new one; 0 keeps everything.
  save_step(root.path(), 6, 1);
  EXPECT_EQ(root.entries(), (Strings{"notes", "step-00000000", "step-00000006", "step-1"}));
  save_step(root.path(), 7, 0);
  save_step(root.path(), 8, 0);
  EXPECT_EQ(root.entries(), (Strings{"notes", "step-00000000", "step-00000006", "step-00000007",
                                     "step-00000008", "step-1"}));
}

// Saving an older step (a run resumed from an earlier checkpoint) never deletes newer ones,
// nor the one just written.
TEST(Checkpoint, KeepLastNeverDeletesNewerCheckpointsOrTheNewOne) {
  TempRoot root;
  save_step(root.path(), 10);
  save_step(root.path(), 20);
  save_step(root.path(), 5, /*keep_last=*/1);
  EXPECT_EQ(root.entries(), (Strings{"step-00000005", "step-00000010", "step-00000020"}));
  save_step(root.path(), 3, 2);  // everything else is newer than 3: nothing goes
  EXPECT_EQ(root.entries(),
            (Strings{"step-00000003", "step-00000005", "step-00000010", "step-00000020"}));
  save_step(root.path(), 15, 2);  // newest two are 20 and 15; 10, 5 and 3 are older
  EXPECT_EQ(root.entries(), (Strings{"step-00000015", "step-00000020"}));
}

TEST(Checkpoint, StepsOrderByNumberPastEightDigits) {
  TempRoot root;
  save_step(root.path(), 99999999);
  save_step(root.path(), 100000000);
  auto list = list_checkpoints(root.path());
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].step, 100000000);
  EXPECT_EQ((*list)[0].dir, root / "step-100000000");
  auto latest = load_latest_checkpoint(root.path(), nullptr);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->state.step, 100000000);
}

class Replace : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { ckpt_internal::set_rename_exchange_disabled_for_testing(GetParam()); }
  void TearDown() override { ckpt_internal::set_rename_exchange_disabled_for_testing(false); }
};

// Re-saving a step swaps in the new contents whole (RENAME_EXCHANGE, or the two-rename
// fallback) and leaves no temporary or replaced copy behind.
TEST_P(Replace, SavingAnExistingStepReplacesIt) {
  TempRoot root;
  auto first = save_checkpoint(root.path(), tagged_model(1), tagged_optimizer(1), state_at(7), 0);
  ASSERT_TRUE(first.ok()) << first.status();
  CheckpointState second_state = state_at(7);
  second_state.stage = "semantic";
  auto second = save_checkpoint(root.path(), tagged_model(2), tagged_optimizer(2), second_state, 0);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, *first);
  EXPECT_EQ(root.entries(), Strings{"step-00000007"});
  auto loaded = load_checkpoint(*second);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->state.stage, "semantic");
  EXPECT_TRUE(same_bytes(loaded->model.at("w"), tagged_model(2)[0].second));
  EXPECT_TRUE(same_bytes(loaded->optimizer.at("w.exp_avg"), tagged_optimizer(2)[0].second));
}

INSTANTIATE_TEST_SUITE_P(Checkpoint, Replace, ::testing::Values(false, true), [](const auto& info) {
  return info.param ? "TwoRenameFallback" : "RenameExchange";
});

TEST(Checkpoint, UnwritableRootGivesAClearError) {
  TempRoot root;
  testing::write_file(root / "file", "x");
  const std::string under_file = root / "file/checkpoints";
  auto dir = save_checkpoint(under_file, tagged_model(1), tagged_optimizer(1), state_at(1), 0);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kFailedPrecondition) << dir.status();
  EXPECT_TRUE(MessageHas(dir.status(), {"cannot create the checkpoint directory", under_file}));
  EXPECT_EQ(root.entries(), Strings{"file"});
}

TEST(Checkpoint, ReadOnlyRootGivesAClearError) {
  if (geteuid() == 0) {
    // Root ignores permission bits (CI runs as root), but nobody can create directories
    // inside /proc: the same failure path, without the permission-denied code.
    const std::string unwritable = "/proc/chorus-checkpoint-test";
    auto dir = save_checkpoint(unwritable, tagged_model(1), tagged_optimizer(1), state_at(1), 0);
    ASSERT_FALSE(dir.ok());
    EXPECT_TRUE(MessageHas(dir.status(), {unwritable})) << dir.status();
    return;
  }
  TempRoot root;
  const std::string read_only = root / "ro";
  std::filesystem::create_directory(read_only);
  std::filesystem::permissions(
      read_only, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  auto dir = save_checkpoint(read_only, tagged_model(1), tagged_optimizer(1), state_at(1), 0);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kPermissionDenied) << dir.status();
  EXPECT_TRUE(MessageHas(dir.status(), {read_only, "temporary checkpoint directory"}));
  std::filesystem::permissions(read_only, std::filesystem::perms::owner_all);
}

// A save that fails part-way leaves neither a checkpoint nor its temporary directory, and an
// existing checkpoint of the same step is untouched.
TEST(Checkpoint, FailedSaveLeavesNoTrace) {
  TempRoot root;
  save_step(root.path(), 4);
  nn::NamedTensors bad = tagged_model(9);
  bad.emplace_back("undefined", Tensor());
  auto dir = save_checkpoint(root.path(), bad, tagged_optimizer(9), state_at(4), 0);
  ASSERT_FALSE(dir.ok());
  EXPECT_TRUE(MessageHas(dir.status(), {"undefined"}));
  EXPECT_EQ(root.entries(), Strings{"step-00000004"});
  auto loaded = load_checkpoint(root / "step-00000004");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(same_bytes(loaded->model.at("w"), tagged_model(4)[0].second));
}

TEST(Checkpoint, RejectsBadArguments) {
  TempRoot root;
  CheckpointState negative = state_at(1);
  negative.step = -1;
  auto dir = save_checkpoint(root.path(), tagged_model(1), {}, negative, 0);
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kInvalidArgument);
  CheckpointState array_cursor = state_at(1);
  array_cursor.data_cursor = nlohmann::json::array({1, 2});
  dir = save_checkpoint(root.path(), tagged_model(1), {}, array_cursor, 0);
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(root.entries().empty());
  EXPECT_EQ(load_checkpoint(root / "step-00000001").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace chorus::train
