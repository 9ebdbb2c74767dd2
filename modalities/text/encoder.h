// The text modality's encoder: token ids -> shared-space tokens and a pooled embedding.
//
//   ids i64 [B, T], mask u8 [B, T] (optional; all real when absent)
//   -> token embedding + learned positions -> bidirectional Transformer (padding keys masked)
//   -> Linear(width -> D) per token -> pooling (cls | mean | eos)
//   EncoderOutput: tokens [B, T, D], mask = the input mask, pooled [B, D]
//
// Padding is on the right (the text collator's convention), so a sequence's real tokens, their
// positions and therefore their outputs do not depend on how much padding its batch added.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "chorus/plugin.h"
#include "core/nn/embedding.h"
#include "core/nn/positional_embedding.h"
#include "core/nn/transformer.h"
#include "modalities/common/encoder_parts.h"

namespace chorus::text {

// vocab_size (0 = the tokenizer's), tokenizer, max_length (64), width (128), depth (2),
// heads (4), ff_mult (4), dropout (0), pooling (mean).
plugin::OptionSchema text_encoder_options();

absl::StatusOr<std::unique_ptr<plugin::Encoder>> make_text_encoder(
    const plugin::EncoderConfig& config);

class TextEncoder : public plugin::Encoder {
 public:
  // `options` resolved against text_encoder_options(), with vocab_size > 0.
  TextEncoder(const plugin::Options& options, int64_t shared_width, uint64_t seed);

  absl::StatusOr<plugin::EncoderOutput> encode(const data::Batch& batch) override;
  int64_t shared_width() const override { return head->shared_width(); }
  int64_t vocab_size() const { return embed->num(); }

  // state_dict names: embed.weight, pos.table.weight, transformer.*, head.proj.weight
  std::shared_ptr<nn::Embedding> embed;
  std::shared_ptr<nn::PositionalEmbedding> pos;
  std::shared_ptr<nn::Transformer> transformer;
  std::shared_ptr<modality::SharedHead> head;

 private:
  Generator dropout_gen_;
};

}  // namespace chorus::text
