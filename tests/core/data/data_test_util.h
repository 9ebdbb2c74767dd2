// Helpers for the data-layer tests: a temporary folder of tiny "files" and codecs that decode
// them into tensors whose values say which sample they came from.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/data/collate.h"
#include "core/data/loader.h"
#include "core/data/manifest.h"

namespace chorus::data::testing {

// A fresh folder under the test temp dir, removed at destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = std::filesystem::temp_directory_path() / "chorus-data-XXXXXX";
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string write(const std::string& rel, const std::string& content) const {
    const std::filesystem::path p = std::filesystem::path(path_) / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

 private:
  std::string path_;
};

// Writes `n` samples "img/<i>.txt" (content: i) and a manifest lines {"image": ..., "label":
// i % 10, "id": "s<i>"}; returns the manifest path.
inline std::string write_numbered(const TempDir& dir, int n, const std::string& name = "m.jsonl",
                                  int first = 0) {
  std::string manifest;
  for (int i = first; i < first + n; ++i) {
    dir.write(absl::StrCat("img/", i, ".txt"), std::to_string(i));
    manifest += absl::StrCat(R"({"image": "img/)", i, R"(.txt", "label": )", i % 10,
                             R"(, "id": "s)", i, "\"}\n");
  }
  return dir.write(name, manifest);
}

// Decodes a file holding an integer into {"value": i64 [1], "seed": i64 [1] (the decode seed's
// low bits)}; a file holding "bad" fails to decode.
inline DecodeFn number_decoder(std::atomic<int>* calls = nullptr) {
  return [calls](const std::string& path, const DecodeOptions& o) -> absl::StatusOr<Sample> {
    if (calls) ++*calls;
    std::ifstream in(path);
    std::string s;
    in >> s;
    if (s == "bad") return absl::DataLossError("corrupt content");
    Sample out;
    out.tensors["value"] = Tensor::from_vector<int64_t>({std::stoll(s)}, {1});
    out.tensors["seed"] =
        Tensor::from_vector<int64_t>({static_cast<int64_t>(o.seed & 0x7fffffff)}, {1});
    return out;
  };
}

inline std::map<std::string, Codec> number_codecs(std::atomic<int>* calls = nullptr) {
  return {{"image", Codec{number_decoder(calls), stack_collate}}};
}

inline std::shared_ptr<const MixedSource> single_source(const std::string& manifest_path,
                                                        const ManifestOptions& mo = {}) {
  auto m = read_manifest(manifest_path, mo);
  EXPECT_TRUE(m.ok()) << m.status();
  auto s = MixedSource::single(*std::move(m));
  EXPECT_TRUE(s.ok()) << s.status();
  return std::make_shared<const MixedSource>(*std::move(s));
}

// The "value" of each row of a batch's image modality.
inline std::vector<int64_t> values(const LoadedBatch& b) {
  return b.modalities.at("image").batch.tensors.at("value").to_vector<int64_t>();
}

// Runs a loader to its end (max_epochs must be set) and returns every value in order.
inline std::vector<int64_t> drain(Loader& loader) {
  std::vector<int64_t> out;
  for (;;) {
    auto b = loader.next();
    EXPECT_TRUE(b.ok()) << b.status();
    if (!b.ok() || !b->has_value()) break;
    for (int64_t v : values(**b)) out.push_back(v);
  }
  return out;
}

}  // namespace chorus::data::testing
