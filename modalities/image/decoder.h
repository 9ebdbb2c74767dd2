// The image modality's decoder: file or bytes -> Sample "pixels" f32 [3, size, size]
// (normalised), and the collator -> Batch "pixels" f32 [B, 3, size, size].
//
// Sample metadata: {"width", "height"} of the file, "channels" in the file (1-4), "format".
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "chorus/plugin.h"
#include "modalities/image/image_io.h"
#include "modalities/image/preprocess.h"

namespace chorus::image {

class ImageDecoder : public plugin::Decoder {
 public:
  ImageDecoder(PreprocessConfig config, ImageLimits limits) : config_(config), limits_(limits) {}

  absl::StatusOr<data::Sample> decode_file(const std::string& path,
                                           const data::DecodeOptions& options) const override;
  absl::StatusOr<data::Sample> decode_bytes(std::string_view bytes,
                                            const data::DecodeOptions& options) const override;
  absl::StatusOr<data::Batch> collate(const std::vector<data::Sample>& samples) const override;

  const PreprocessConfig& config() const { return config_; }
  const ImageLimits& limits() const { return limits_; }

 private:
  // `name` is the file path, or "<bytes>", used to prefix every error.
  absl::StatusOr<data::Sample> decode_named(std::string_view bytes, const std::string& name,
                                            const data::DecodeOptions& options) const;

  PreprocessConfig config_;
  ImageLimits limits_;
};

// Options (defaults in parentheses): size (224), resize ("bicubic" | "bilinear"),
// crop ("center" | "stretch"), mean / std (CLIP's), max_dimension (8192),
// max_pixels (8192*8192), augment_scale ([0.5, 1]), augment_ratio ([0.75, 1.3333]),
// augment_flip (0.5, probability).
plugin::OptionSchema image_decoder_options();

// Missing options take the schema's defaults; bad values give InvalidArgument naming the option.
absl::StatusOr<std::unique_ptr<plugin::Decoder>> make_image_decoder(const plugin::Options& options);

}  // namespace chorus::image
