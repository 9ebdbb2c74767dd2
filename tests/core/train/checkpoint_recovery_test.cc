// Damaged checkpoints: load_checkpoint names the file and the problem; load_latest_checkpoint
// skips bad ones with a warning and falls back to the newest good one; leftovers of crashed
// saves are ignored by loading and cleaned by the next save.
#include <gtest/gtest.h>

#include <filesystem>

#include "checkpoint_test_util.h"
#include "core/train/checkpoint.h"
#include "core/train/checkpoint_manifest.h"
#include "core/train/checkpoint_state.h"

namespace chorus::train {
namespace {

namespace fs = std::filesystem;
using ::chorus::testing::MessageHas;
using ::chorus::testing::read_file;
using ::chorus::testing::same_bytes;
using ::chorus::testing::save_step;
using ::chorus::testing::tagged_model;
using ::chorus::testing::TempRoot;
using ::chorus::testing::write_file;
using Strings = std::vector<std::string>;
using Code = absl::StatusCode;

TEST(CheckpointRecovery, FlippedByteInModelIsAChecksumError) {
  TempRoot root;
  const std::string dir = save_step(root.path(), 3);
  const std::string model = dir + "/model.safetensors";
  std::string bytes = read_file(model);
  bytes.back() ^= 0x01;  // last byte of the data area: the header still parses
  write_file(model, bytes);
  auto loaded = load_checkpoint(dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), Code::kDataLoss);
  EXPECT_TRUE(MessageHas(loaded.status(), {dir, "model.safetensors", "checksum"}));
}

TEST(CheckpointRecovery, ReportsEveryProblemAtOnce) {
  TempRoot root;
  const std::string dir = save_step(root.path(), 3);
  write_file(dir + "/optimizer.safetensors", "short");
  fs::remove(dir + "/state.json");
  write_file(dir + "/notes.txt", "hello");
  auto loaded = load_checkpoint(dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(MessageHas(loaded.status(), {"optimizer.safetensors: size is 5 bytes", "truncated",
                                           "state.json: missing", "notes.txt: unexpected file"}));
}

// Each kind of damage to the newest checkpoint: the previous good one is loaded, and the
// warning names the bad directory and the reason.
struct Damage {
  const char* name;
  std::function<void(const std::string& dir)> apply;
  const char* reason;
};

class Fallback : public ::testing::TestWithParam<Damage> {};

TEST_P(Fallback, LoadLatestSkipsTheDamagedCheckpoint) {
  TempRoot root;
  for (int64_t step : {1, 2, 3}) save_step(root.path(), step);
  const std::string bad = root / "step-00000003";
  GetParam().apply(bad);

  std::vector<std::string> warnings;
  auto latest = load_latest_checkpoint(root.path(), &warnings);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->state.step, 2);
  EXPECT_EQ(latest->dir, root / "step-00000002");
  EXPECT_TRUE(same_bytes(latest->model.at("w"), tagged_model(2)[0].second));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find(bad), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find(GetParam().reason), std::string::npos) << warnings[0];
}

// Rewrites the manifest to match the files as they are now, so damage gets past the checksum
// and must be caught by parsing.
void remanifest(const std::string& dir) {
  fs::remove(dir + "/manifest.json");
  auto text = ckpt_internal::build_manifest(
      dir, {"model.safetensors", "optimizer.safetensors", "state.json"});
  ASSERT_TRUE(text.ok()) << text.status();
  write_file(dir + "/manifest.json", *text);
}

INSTANTIATE_TEST_SUITE_P(
    CheckpointRecovery, Fallback,
    ::testing::Values(
        Damage{"MissingManifest", [](const std::string& d) { fs::remove(d + "/manifest.json"); },
               "manifest.json is missing"},
        Damage{"TruncatedOptimizer",
               [](const std::string& d) {
                 fs::resize_file(d + "/optimizer.safetensors",
                                 fs::file_size(d + "/optimizer.safetensors") - 10);
               },
               "optimizer.safetensors: size is"},
        Damage{"DeletedModel", [](const std::string& d) { fs::remove(d + "/model.safetensors"); },
               "model.safetensors: missing"},
        Damage{"GarbageManifest",
               [](const std::string& d) { write_file(d + "/manifest.json", "{\"files\": [1,"); },
               "manifest.json is not valid JSON"},
        Damage{"UnreadableStateJson",
               [](const std::string& d) {
                 write_file(d + "/state.json", "{\"step\": 3,");
                 remanifest(d);
               },
               "state.json: not a valid JSON object"},
        Damage{"UnreadableSafetensors",
               [](const std::string& d) {
                 write_file(d + "/model.safetensors", std::string(16, '\xff'));
                 remanifest(d);
               },
               "model.safetensors"},
        Damage{"StepMismatch",
               [](const std::string& d) {
                 // A checkpoint copied under the wrong name.
                 fs::remove_all(d);
                 fs::copy(fs::path(d).parent_path() / "step-00000001", d);
               },
               "says step 1"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CheckpointRecovery, SkipsSeveralBadOnesAndReportsNotFoundWhenNoneIsGood) {
  TempRoot root;
  for (int64_t step : {1, 2, 3}) save_step(root.path(), step);
  fs::remove(root / "step-00000003/manifest.json");
  fs::remove(root / "step-00000002/state.json");
  std::vector<std::string> warnings;
  auto latest = load_latest_checkpoint(root.path(), &warnings);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->state.step, 1);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("step-00000003"), std::string::npos);
  EXPECT_NE(warnings[1].find("step-00000002"), std::string::npos);

  fs::remove(root / "step-00000001/model.safetensors");
  warnings.clear();
  latest = load_latest_checkpoint(root.path(), &warnings);
  EXPECT_EQ(latest.status().code(), Code::kNotFound);
  EXPECT_TRUE(MessageHas(latest.status(), {"no valid checkpoint", root.path()}));
  EXPECT_EQ(warnings.size(), 3u);
}

TEST(CheckpointRecovery, NoCheckpointIsNotFound) {
  TempRoot root;
  EXPECT_EQ(load_latest_checkpoint(root.path(), nullptr).status().code(), Code::kNotFound);
  EXPECT_EQ(load_latest_checkpoint(root / "missing", nullptr).status().code(), Code::kNotFound);
  auto list = list_checkpoints(root / "missing");
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

// A crash during a save leaves .tmp-step-*: loading ignores it without a warning, and the next
// save removes it.
TEST(CheckpointRecovery, LeftoverTempDirectoryIsIgnoredThenCleanedUp) {
  TempRoot root;
  save_step(root.path(), 1);
  // A complete-looking newer checkpoint under a temporary name, and a partial one.
  fs::copy(root / "step-00000001", root / ".tmp-step-00000009-4242");
  fs::create_directory(root / ".tmp-step-00000010-4243");
  write_file(root / ".tmp-step-00000010-4243/model.safetensors", "partial");

  std::vector<std::string> warnings;
  auto latest = load_latest_checkpoint(root.path(), &warnings);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->state.step, 1);
  EXPECT_TRUE(warnings.empty());

  save_step(root.path(), 2);
  EXPECT_EQ(root.entries(), (Strings{"step-00000001", "step-00000002"}));
}

// Without RENAME_EXCHANGE a replacement renames the old checkpoint aside first; a crash before
// the new one is renamed in leaves only .old-step-N. It still counts as step N.
TEST(CheckpointRecovery, ReplacedCopyLeftByACrashIsStillFound) {
  TempRoot root;
  save_step(root.path(), 4);
  save_step(root.path(), 5);
  fs::rename(root / "step-00000005", root / ".old-step-00000005-777");
  fs::create_directory(root / ".tmp-step-00000005-777");  // the new one, never renamed in

  auto list = list_checkpoints(root.path());
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].dir, root / ".old-step-00000005-777");
  std::vector<std::string> warnings;
  auto latest = load_latest_checkpoint(root.path(), &warnings);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->state.step, 5);
  EXPECT_TRUE(warnings.empty());

  // Saving step 5 again supersedes the copy, which is then removed with the temporary.
  save_step(root.path(), 5);
  EXPECT_EQ(root.entries(), (Strings{"step-00000004", "step-00000005"}));
}

TEST(CheckpointRecovery, StateJsonIsCheckedFieldByField) {
  using ckpt_internal::state_from_json;
  const std::string good = ckpt_internal::state_to_json(testing::state_at(3));
  ASSERT_TRUE(state_from_json(good, "s.json").ok());
  auto with = [&](const char* key, nlohmann::json value) {
    nlohmann::json j = nlohmann::json::parse(good);
    j[key] = std::move(value);
    return state_from_json(j.dump(), "s.json").status();
  };
  auto without = [&](const char* key) {
    nlohmann::json j = nlohmann::json::parse(good);
    j.erase(key);
    return state_from_json(j.dump(), "s.json").status();
  };
  EXPECT_TRUE(MessageHas(without("step"), {"s.json", "step is missing"}));
  EXPECT_TRUE(MessageHas(with("step", "3"), {"step is not a 64-bit integer"}));
  EXPECT_TRUE(MessageHas(with("step", -3), {"step is negative"}));
  EXPECT_TRUE(MessageHas(with("stage", 1), {"stage is not a string"}));
  EXPECT_TRUE(MessageHas(with("rng", {{"data", {{"seed", -1}, {"offset", 0}}}}),
                         {"rng.data.seed is not an unsigned 64-bit integer"}));
  EXPECT_TRUE(MessageHas(with("rng", {{"data", {{"seed", 1}}}}), {"rng.data.offset is missing"}));
  EXPECT_TRUE(MessageHas(with("data_cursor", 5), {"data_cursor is not a JSON object"}));
  EXPECT_TRUE(MessageHas(with("version", 2), {"version is 2"}));
  EXPECT_TRUE(MessageHas(with("format", "other"), {"format is not"}));
  EXPECT_EQ(with("step", "3").code(), Code::kDataLoss);
}

}  // namespace
}  // namespace chorus::train
