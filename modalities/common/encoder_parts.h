// Pieces every shipped encoder is built from, so that text, image and audio differ only in
// their front-end (how input becomes a [B, T, width] token sequence):
//
//   front-end -> + learned positions -> Transformer (bidirectional, key-padding mask)
//             -> SharedHead: Linear(width -> D) on every token, then pooling -> EncoderOutput
//
// The transformer follows BERT/ViT conventions (pre-norm LayerNorm, GELU MLP, biases) rather
// than the core LM's RMSNorm/SwiGLU: these are the encoders people compare against.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "chorus/plugin.h"
#include "core/nn/linear.h"
#include "core/nn/transformer_config.h"
#include "modalities/common/pooling.h"

namespace chorus::modality {

// Options of the transformer trunk: width, depth, heads, ff_mult, dropout, with these defaults.
plugin::OptionSchema transformer_option_specs(int64_t width, int64_t depth, int64_t heads,
                                              int64_t ff_mult);
// An encoder TransformerConfig from resolved options (non-causal, no RoPE: positions are
// learned and added at the input). Throws chorus::Error if width is not a multiple of heads.
nn::TransformerConfig transformer_config(const plugin::Options& options);

// Projection into the shared space and pooling. The projection is applied to every token, so
// pooled = pool(tokens) lives in the same space as the tokens (and for mean pooling equals the
// projection of the mean).
class SharedHead : public nn::Module {
 public:
  SharedHead(int64_t width, int64_t shared_width, Pooling pooling, Generator& gen);

  // h [B, T, width] (after the trunk's final norm), mask u8 [B, T].
  plugin::EncoderOutput forward(const Tensor& h, const Tensor& mask) const;

  int64_t shared_width() const { return proj->out_features(); }
  Pooling pooling() const { return pooling_; }

  std::shared_ptr<nn::Linear> proj;  // state_dict "proj.weight", no bias (as CLIP)

 private:
  Pooling pooling_;
};

// The batch tensor `name` with `rank` dims, or an InvalidArgument error naming `what`, the
// tensor and the problem (missing, wrong rank, batch size differing from batch.size).
absl::StatusOr<Tensor> batch_tensor(const data::Batch& batch, const std::string& name, int64_t rank,
                                    const std::string& what);
// The batch's "mask" (u8 [B, T]; any integer or bool dtype is converted) or all ones on
// `device` (the other batch tensors') when the batch has none; an error if its shape is not
// [B, T].
absl::StatusOr<Tensor> batch_mask(const data::Batch& batch, int64_t B, int64_t T,
                                  const std::string& what, Device device);

}  // namespace chorus::modality
