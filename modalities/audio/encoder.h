// The audio modality's encoder: log-mel spectrogram -> shared-space tokens and a pooled
// embedding.
//
//   mel f32 [B, n_mels, frames], mask u8 [B, frames] (optional; all real when absent)
//   -> front-end that shortens time by `stride`, one of
//        conv:  log2(stride) conv1d(k3, stride 2, pad 1) + GELU layers (Whisper's front-end,
//               generalised); stride 1 is a single k3/stride-1 conv
//        patch: conv1d with kernel = stride = `stride` frames (all mel bins in one patch)
//   -> + learned positions (and a CLS token first with pooling cls)
//   -> bidirectional Transformer (padding keys masked) -> Linear(width -> D) -> pooling
//   EncoderOutput: tokens [B, T', D] with T' = ceil(frames / stride) (+1 for CLS), the
//   downsampled mask, pooled [B, D] (masked mean by default)
//
// Masking is exact: padding frames are zeroed before every conv (so they look like the conv's
// own zero padding), and a downsampled token is real when any frame under it is. A clip
// therefore encodes to the same real tokens and pooled vector alone or padded in a batch.
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "chorus/plugin.h"
#include "core/nn/embedding.h"
#include "core/nn/module_list.h"
#include "core/nn/transformer.h"
#include "modalities/common/conv.h"
#include "modalities/common/encoder_parts.h"

namespace chorus::audio {

// n_mels (80), frontend (conv), stride (4), max_frames (3000), width (128), depth (2), heads (4),
// ff_mult (4), dropout (0), pooling (mean).
plugin::OptionSchema audio_encoder_options();

absl::StatusOr<std::unique_ptr<plugin::Encoder>> make_audio_encoder(
    const plugin::EncoderConfig& config);

// The token mask after a front-end step of `factor`: token t is real when any of the frames
// [t·factor, (t+1)·factor) is. mask u8 [B, L] -> u8 [B, ceil(L / factor)].
Tensor downsample_mask(const Tensor& mask, int64_t factor);

class AudioEncoder : public plugin::Encoder {
 public:
  // `options` resolved against audio_encoder_options().
  AudioEncoder(const plugin::Options& options, int64_t shared_width, uint64_t seed);

  absl::StatusOr<plugin::EncoderOutput> encode(const data::Batch& batch) override;
  int64_t shared_width() const override { return head->shared_width(); }

  // state_dict names: front.<i>.{weight,bias}, cls (pooling cls only), pos.weight,
  // transformer.*, head.proj.weight
  std::shared_ptr<nn::ModuleList> front;
  Tensor cls;
  std::shared_ptr<nn::Embedding> pos;
  std::shared_ptr<nn::Transformer> transformer;
  std::shared_ptr<modality::SharedHead> head;

 private:
  bool patch_;
  int64_t n_mels_, stride_, max_frames_;
  std::vector<std::shared_ptr<modality::Conv1d>> convs_;
  Generator dropout_gen_;
};

}  // namespace chorus::audio
