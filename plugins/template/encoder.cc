// The skeleton encoder: each token's bytes -> shared space with one Linear layer; the pooled
// embedding is the mean over real (unmasked) tokens.
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "skeleton.h"

namespace skeleton {

using chorus::Tensor;

SkeletonEncoder::SkeletonEncoder(const Settings& settings, int64_t shared_width, uint64_t seed)
    : Encoder("SkeletonEncoder"), chunk_(settings.chunk), shared_width_(shared_width) {
  // Parameters are registered like in any nn::Module, so the engine's state dicts, checkpoints
  // and optimizers see them ("projection.weight", "projection.bias"). Initialise from the
  // config's seed only: the same recipe then builds the same model.
  chorus::Generator generator(seed);
  projection_ = register_module(
      "projection", std::make_shared<chorus::nn::Linear>(chunk_, shared_width, generator));
}

absl::StatusOr<chorus::plugin::EncoderOutput> SkeletonEncoder::encode(
    const chorus::data::Batch& batch) {
  return chorus::plugin::Guard(
      "skeleton encoder", [&]() -> absl::StatusOr<chorus::plugin::EncoderOutput> {
        auto values = batch.tensors.find("values");
        auto mask = batch.tensors.find("mask");
        if (values == batch.tensors.end() || mask == batch.tensors.end()) {
          return absl::InvalidArgumentError(
              "batch needs \"values\" and \"mask\" (use this plugin's collate)");
        }
        if (values->second.dim() != 3 || values->second.size(2) != chunk_) {
          return absl::InvalidArgumentError("\"values\" must be [B, T, " + std::to_string(chunk_) +
                                            "], got " + chorus::shape_str(values->second.shape()));
        }
        chorus::plugin::EncoderOutput out;
        out.tokens = projection_->forward(values->second);  // [B, T, D]
        out.mask = mask->second;                            // [B, T] u8
        // Masked mean over T; every input has at least one token, so the count is never zero.
        const Tensor weights = mask->second.to(chorus::DType::kF32).unsqueeze(-1);  // [B, T, 1]
        out.pooled = chorus::div(chorus::sum(chorus::mul(out.tokens, weights), {1}),
                                 chorus::sum(weights, {1}));  // [B, D]
        return out;
      });
}

}  // namespace skeleton
