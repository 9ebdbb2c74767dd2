// The skeleton decoder: bytes -> "values" f32 [T, chunk]; collate pads to the longest input.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "skeleton.h"

namespace skeleton {

using chorus::Tensor;
using chorus::data::Batch;
using chorus::data::DecodeOptions;
using chorus::data::Sample;

absl::StatusOr<Sample> SkeletonDecoder::decode_file(const std::string& path,
                                                    const DecodeOptions& options) const {
  // Errors name the input and the problem: the data loader logs them per sample.
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream content;
  content << in.rdbuf();
  absl::StatusOr<Sample> sample = decode_bytes(content.str(), options);
  if (!sample.ok())
    return absl::Status(sample.status().code(),
                        path + ": " + std::string(sample.status().message()));
  return sample;
}

absl::StatusOr<Sample> SkeletonDecoder::decode_bytes(std::string_view bytes,
                                                     const DecodeOptions& options) const {
  // Guard turns anything thrown inside (a failed CHORUS_CHECK, std::bad_alloc) into a Status.
  return chorus::plugin::Guard("skeleton decoder", [&]() -> absl::StatusOr<Sample> {
    if (bytes.empty()) return absl::InvalidArgumentError("empty input");
    const int64_t chunk = settings_.chunk;
    const int64_t total_tokens = (static_cast<int64_t>(bytes.size()) + chunk - 1) / chunk;
    const int64_t tokens = std::min(total_tokens, settings_.max_tokens);
    // A real modality would augment here when options.augment is set, drawing its random
    // numbers from chorus::Generator(options.seed) so that runs and resumes repeat exactly.
    (void)options;
    Tensor values = Tensor::zeros({tokens, chunk});  // the last token is zero-padded
    float* out = values.data<float>();
    const int64_t used = std::min<int64_t>(static_cast<int64_t>(bytes.size()), tokens * chunk);
    for (int64_t i = 0; i < used; ++i) {
      const float b = static_cast<unsigned char>(bytes[i]);
      out[i] = settings_.signed_scale ? (b - 127.5f) / 127.5f : b / 255.0f;
    }
    Sample sample;
    sample.tensors["values"] = values;
    sample.metadata = {{"bytes", bytes.size()}, {"truncated", total_tokens > tokens}};
    return sample;
  });
}

absl::StatusOr<Batch> SkeletonDecoder::collate(const std::vector<Sample>& samples) const {
  return chorus::plugin::Guard("skeleton collate", [&]() -> absl::StatusOr<Batch> {
    if (samples.empty()) return absl::InvalidArgumentError("collate: no samples");
    const int64_t chunk = settings_.chunk;
    int64_t longest = 0;
    for (const Sample& s : samples) {
      auto it = s.tensors.find("values");
      if (it == s.tensors.end() || it->second.dim() != 2 || it->second.size(1) != chunk) {
        return absl::InvalidArgumentError("collate: a sample has no \"values\" [T, " +
                                          std::to_string(chunk) + "] tensor");
      }
      longest = std::max(longest, it->second.size(0));
    }
    const int64_t batch = static_cast<int64_t>(samples.size());
    Tensor values = Tensor::zeros({batch, longest, chunk});
    Tensor mask = Tensor::zeros({batch, longest}, chorus::DType::kU8);
    float* v = values.data<float>();
    uint8_t* m = mask.data<uint8_t>();
    for (int64_t b = 0; b < batch; ++b) {
      const Tensor src = samples[b].tensors.at("values").contiguous();
      const int64_t t = src.size(0);
      std::copy_n(src.data<float>(), t * chunk, v + b * longest * chunk);
      std::fill_n(m + b * longest, t, uint8_t{1});
    }
    Batch out;
    out.tensors["values"] = values;
    out.tensors["mask"] = mask;
    out.size = batch;
    return out;
  });
}

}  // namespace skeleton
