#include "core/recipe/run_directory.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/recipe/progress.h"

namespace chorus::recipe {
namespace {
namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path fresh_root(const char* name) {
  fs::path root = fs::temp_directory_path() /
                  ("chorus_rundir_" + std::string(name) + "_" + std::to_string(::getpid()));
  fs::remove_all(root);
  return root;
}

TEST(RunDirectory, CreatesDistinctFoldersWithinOneSecond) {
  const fs::path root = fresh_root("distinct");
  auto a = RunDirectory::Create(root.string(), "quick");
  auto b = RunDirectory::Create(root.string(), "quick");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_NE(a->path(), b->path());
  EXPECT_TRUE(fs::is_directory(a->path()));
  auto latest = RunDirectory::Latest(root.string(), "quick");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->path(), b->path());
  fs::remove_all(root);
}

TEST(RunDirectory, RejectsNamesThatAreNotOneComponent) {
  const fs::path root = fresh_root("names");
  EXPECT_FALSE(RunDirectory::Create(root.string(), "a/b").ok());
  EXPECT_FALSE(RunDirectory::Create(root.string(), "").ok());
  EXPECT_FALSE(RunDirectory::Create(root.string(), "..").ok());
  EXPECT_EQ(RunDirectory::Latest(root.string(), "none").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(RunDirectory, WritesCommandWithQuotingAndPlugins) {
  const fs::path root = fresh_root("command");
  auto run = RunDirectory::Create(root.string(), "r");
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE(run->WriteCommand({"chorus", "train", "my recipe.yaml", "run.seed=3", "it's"},
                                {{"image", "0.1.0"}})
                  .ok());
  const std::string text = slurp(run->file("command.txt"));
  EXPECT_EQ(text.substr(0, text.find('\n')), "chorus train 'my recipe.yaml' run.seed=3 'it'\\''s'");
  EXPECT_NE(text.find("engine: chorus "), std::string::npos);
  EXPECT_NE(text.find("plugin: image 0.1.0"), std::string::npos);
  EXPECT_FALSE(fs::exists(run->file("command.txt.tmp")));
  fs::remove_all(root);
}

TEST(RunLog, AppendsTimestampedLines) {
  const fs::path root = fresh_root("log");
  fs::create_directories(root);
  {
    RunLog log;
    log.set_echo(false);
    ASSERT_TRUE(log.Open((root / "log.txt").string()).ok());
    log.Line("first");
    log.FileOnly("second");
  }
  const std::string text = slurp((root / "log.txt").string());
  EXPECT_NE(text.find("] first\n"), std::string::npos);
  EXPECT_NE(text.find("] second\n"), std::string::npos);
  EXPECT_EQ(text[0], '[');
  fs::remove_all(root);
}

TEST(Progress, FormatsBarEtaAndThroughput) {
  ProgressState st{.stage = "instance",
                   .step = 5,
                   .total = 20,
                   .loss = 1.5,
                   .samples_per_s = 812.4,
                   .elapsed_s = 10.0};
  // 5 steps in 10 s -> 15 steps left take 30 s.
  EXPECT_EQ(format_progress(st, 8),
            "instance [##------] 5/20  25% loss 1.5000 812 samples/s ETA 0:30");
  st.first_step = 5;  // resumed at 5: no pace yet
  EXPECT_NE(format_progress(st, 8).find("ETA --:--"), std::string::npos);
  EXPECT_EQ(format_duration(3725), "1:02:05");
  EXPECT_EQ(format_duration(-1), "--:--");
}

TEST(Progress, PlainModePrintsEveryNthStepAndTheLast) {
  Progress progress(/*tty=*/false, /*plain_every=*/3);
  progress.StartStage("cluster", 7);
  std::vector<int> printed;
  for (int step = 1; step <= 7; ++step) {
    if (!progress.Update(step, 0.5, 10.0).empty()) printed.push_back(step);
  }
  EXPECT_EQ(printed, (std::vector<int>{3, 6, 7}));
}

}  // namespace
}  // namespace chorus::recipe
