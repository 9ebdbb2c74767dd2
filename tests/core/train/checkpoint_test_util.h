// Helpers for the checkpoint tests: a unique, self-deleting temporary root per test, sample
// tensors and states, and byte-level file surgery to simulate damage.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "core/train/checkpoint.h"

namespace chorus::testing {

namespace fs = std::filesystem;

// <temp>/chorus_ckpt_<random>, removed (with everything in it) at the end of the test.
class TempRoot {
 public:
  TempRoot() {
    std::random_device rd;
    for (int attempt = 0; attempt < 100 && path_.empty(); ++attempt) {
      const fs::path p = fs::temp_directory_path() /
                         ("chorus_ckpt_" + std::to_string(rd()) + "_" + std::to_string(rd()));
      std::error_code ec;
      if (fs::create_directory(p, ec)) path_ = p.string();
    }
    if (path_.empty()) ADD_FAILURE() << "cannot create a temporary directory";
  }
  ~TempRoot() {
    std::error_code ignored;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ignored);
    fs::remove_all(path_, ignored);
  }
  TempRoot(const TempRoot&) = delete;
  TempRoot& operator=(const TempRoot&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (fs::path(path_) / name).string(); }

  // Names of the entries directly under the root, sorted.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path_)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  std::string path_;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

inline bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && a.nbytes() == b.nbytes() &&
         std::memcmp(a.contiguous().raw_data(), b.contiguous().raw_data(), a.nbytes()) == 0;
}

// A small model: one tensor whose values depend on `tag`, so versions can be told apart.
inline nn::NamedTensors tagged_model(float tag) {
  return {{"w", Tensor::from_vector<float>({tag, tag + 1, tag + 2, tag + 3}, {2, 2})},
          {"b", Tensor::from_vector<float>({-tag}, {1})}};
}

inline nn::NamedTensors tagged_optimizer(float tag) {
  return {{"w.exp_avg", Tensor::from_vector<float>({tag * 2, 0, 0, 1}, {2, 2})},
          {"step", Tensor::from_vector<int64_t>({static_cast<int64_t>(tag)}, {})}};
}

inline train::CheckpointState state_at(int64_t step) {
  train::CheckpointState s;
  s.step = step;
  s.stage = "instance";
  s.rng["data"] = {42, static_cast<uint64_t>(step) * 4};
  s.data_cursor = {{"epoch", 0}, {"index", step * 8}};
  s.config = "model:\n  width: 64\n";
  return s;
}

// Saves step `step` (model and optimizer tagged with the step) and asserts success.
inline std::string save_step(const std::string& root, int64_t step, int keep_last = 0) {
  auto dir =
      train::save_checkpoint(root, tagged_model(static_cast<float>(step)),
                             tagged_optimizer(static_cast<float>(step)), state_at(step), keep_last);
  EXPECT_TRUE(dir.ok()) << dir.status();
  return dir.ok() ? *dir : std::string();
}

// Asserts a status's message contains each of `needles`.
inline ::testing::AssertionResult MessageHas(const absl::Status& status,
                                             std::initializer_list<std::string> needles) {
  if (status.ok()) return ::testing::AssertionFailure() << "status is OK";
  for (const std::string& needle : needles) {
    if (status.message().find(needle) == std::string::npos) {
      return ::testing::AssertionFailure() << "message lacks \"" << needle << "\": " << status;
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace chorus::testing
