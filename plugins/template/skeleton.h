// The skeleton modality: a minimal, complete Chorus plugin to copy from.
//
// It treats any file as a sequence of bytes, cuts it into tokens of `chunk` bytes, and projects
// each token into the shared embedding space with one Linear layer. That is not a useful
// modality, but every piece a real one needs is here, in the shape the engine expects:
//   - options declared once (plugin.cc) and validated by the host before they reach you;
//   - a Decoder: file or bytes -> Sample (unbatched tensors), and collate: Samples -> Batch,
//     padding variable-length inputs and adding a "mask";
//   - an Encoder (an nn::Module): Batch -> tokens [B, T, D], mask [B, T], pooled [B, D];
//   - errors returned as absl::Status, never thrown across the boundary.
// `chorus plugins new NAME` copies this folder and renames skeleton/Skeleton/SKELETON to NAME.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "chorus/plugin.h"
#include "core/nn/linear.h"

namespace skeleton {

// The plugin's options, read once from the validated JSON (see Schema() in plugin.cc).
struct Settings {
  int64_t chunk = 16;         // bytes per token
  int64_t max_tokens = 256;   // longer inputs are truncated
  bool signed_scale = false;  // bytes to [-1, 1] instead of [0, 1]
  static Settings FromOptions(const chorus::plugin::Options& options);
};

class SkeletonDecoder : public chorus::plugin::Decoder {
 public:
  explicit SkeletonDecoder(Settings settings) : settings_(settings) {}
  absl::StatusOr<chorus::data::Sample> decode_file(
      const std::string& path, const chorus::data::DecodeOptions& options) const override;
  absl::StatusOr<chorus::data::Sample> decode_bytes(
      std::string_view bytes, const chorus::data::DecodeOptions& options) const override;
  absl::StatusOr<chorus::data::Batch> collate(
      const std::vector<chorus::data::Sample>& samples) const override;

 private:
  Settings settings_;
};

class SkeletonEncoder : public chorus::plugin::Encoder {
 public:
  SkeletonEncoder(const Settings& settings, int64_t shared_width, uint64_t seed);
  absl::StatusOr<chorus::plugin::EncoderOutput> encode(const chorus::data::Batch& batch) override;
  int64_t shared_width() const override { return shared_width_; }

 private:
  int64_t chunk_, shared_width_;
  std::shared_ptr<chorus::nn::Linear> projection_;  // chunk -> shared width
};

}  // namespace skeleton
