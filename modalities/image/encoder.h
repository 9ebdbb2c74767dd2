// The image modality's encoder: pixels -> shared-space tokens and a pooled embedding.
//
//   pixels f32 [B, C, H, W] (the image decoder's normalised output)
//   -> front-end, one of
//        vit:  patch embedding, a conv with kernel = stride = patch_size (Dosovitskiy et al.)
//        conv: log2(patch_size) blocks of conv3x3/stride 2 + channel LayerNorm + GELU (a small
//              conv stem, Xiao et al. 2021 "Early convolutions help transformers see better")
//      -> a grid of gh x gw tokens of width `width`
//   -> [CLS] + tokens, + learned positions (2-D grid positions, so any image up to
//      size x size uses the matching corner of the table)
//   -> bidirectional Transformer -> Linear(width -> D) per token -> pooling (cls | mean)
//   EncoderOutput: tokens [B, 1 + gh·gw, D] (CLS first), mask all ones, pooled [B, D]
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "chorus/plugin.h"
#include "core/nn/embedding.h"
#include "core/nn/module_list.h"
#include "core/nn/norm.h"
#include "core/nn/transformer.h"
#include "modalities/common/conv.h"
#include "modalities/common/encoder_parts.h"

namespace chorus::image {

// arch (vit), size (224), channels (3), patch_size (16), width (128), depth (2), heads (4),
// ff_mult (4), dropout (0), pooling (mean).
plugin::OptionSchema image_encoder_options();

absl::StatusOr<std::unique_ptr<plugin::Encoder>> make_image_encoder(
    const plugin::EncoderConfig& config);

// One block of the conv stem: conv3x3 / stride 2 / padding 1, LayerNorm over channels, GELU.
class StemBlock : public nn::Module {
 public:
  StemBlock(int64_t in, int64_t out, Generator& gen);
  Tensor forward(const Tensor& x) const;  // [B, in, H, W] -> [B, out, ceil(H/2), ceil(W/2)]

  std::shared_ptr<modality::Conv2d> conv;
  std::shared_ptr<nn::LayerNorm> norm;
};

class ImageEncoder : public plugin::Encoder {
 public:
  // `options` resolved against image_encoder_options().
  ImageEncoder(const plugin::Options& options, int64_t shared_width, uint64_t seed);

  absl::StatusOr<plugin::EncoderOutput> encode(const data::Batch& batch) override;
  int64_t shared_width() const override { return head->shared_width(); }

  // state_dict names: patch.{weight,bias} (vit) or stem.<i>.{conv,norm}.* (conv), cls,
  // pos.weight, transformer.*, head.proj.weight
  std::shared_ptr<modality::Conv2d> patch;  // vit only
  std::shared_ptr<nn::ModuleList> stem;     // conv only
  Tensor cls;                               // [width]
  std::shared_ptr<nn::Embedding> pos;       // grid·grid + 1 rows: CLS, then row-major patches
  std::shared_ptr<nn::Transformer> transformer;
  std::shared_ptr<modality::SharedHead> head;

 private:
  Tensor front_end(const Tensor& pixels) const;  // [B, C, H, W] -> [B, width, gh, gw]

  int64_t channels_, patch_size_, grid_;  // grid_: positions per side (size / patch_size)
  std::vector<std::shared_ptr<StemBlock>> stem_blocks_;
  Generator dropout_gen_;
};

}  // namespace chorus::image
