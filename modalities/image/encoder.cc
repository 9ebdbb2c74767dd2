#include "modalities/image/encoder.h"

#include "absl/strings/str_cat.h"
#include "core/nn/init.h"
#include "core/ops/elementwise.h"
#include "core/ops/index.h"
#include "core/ops/join.h"
#include "modalities/common/options.h"

namespace chorus::image {
namespace {

using plugin::OptionSpec;
using plugin::OptionType;

constexpr const char* kWhat = "image encoder";

int64_t stem_depth(int64_t patch_size) {
  int64_t n = 0;
  while ((int64_t{1} << n) < patch_size) ++n;
  return n;
}

}  // namespace

plugin::OptionSchema image_encoder_options() {
  plugin::OptionSchema schema = {
      OptionSpec{"arch",
                 OptionType::kString,
                 "vit",
                 "front-end: vit (patch embedding) or conv (conv3x3/stride-2 stem)",
                 {"vit", "conv"}},
      // "size" is also the image decoder's output side, so one option sets both.
      OptionSpec{"size",
                 OptionType::kInt,
                 224,
                 "largest image side the position table covers (images may be smaller)",
                 {},
                 1,
                 8192},
      OptionSpec{"channels", OptionType::kInt, 3, "input channels (3 for RGB)", {}, 1, 64},
      OptionSpec{"patch_size",
                 OptionType::kInt,
                 16,
                 "pixels per token side (conv: a power of two, the stem's total stride)",
                 {},
                 1,
                 512},
  };
  for (OptionSpec& s : modality::transformer_option_specs(128, 2, 4, 4)) schema.push_back(s);
  schema.push_back(OptionSpec{"pooling",
                              OptionType::kString,
                              "mean",
                              "pooled embedding: cls (the CLS token) or mean over all tokens",
                              {"cls", "mean"}});
  return schema;
}

StemBlock::StemBlock(int64_t in, int64_t out, Generator& gen) : Module("StemBlock") {
  Conv2dOptions o;
  o.stride = {2, 2};
  o.padding = {1, 1};
  conv = register_module("conv", std::make_shared<modality::Conv2d>(in, out, 3, o, gen));
  norm = register_module("norm", std::make_shared<nn::LayerNorm>(out));
}

Tensor StemBlock::forward(const Tensor& x) const {
  Tensor y = conv->forward(x);                 // [B, out, h, w]
  y = norm->forward(y.permute({0, 2, 3, 1}));  // channels last for the norm
  return gelu(y.permute({0, 3, 1, 2}));
}

ImageEncoder::ImageEncoder(const plugin::Options& options, int64_t shared_width, uint64_t seed)
    : plugin::Encoder("ImageEncoder"), dropout_gen_(seed ^ 0x9e3779b97f4a7c15ull) {
  Generator gen(seed);
  const nn::TransformerConfig config = modality::transformer_config(options);
  const int64_t width = config.width;
  channels_ = options.at("channels").get<int64_t>();
  patch_size_ = options.at("patch_size").get<int64_t>();
  const int64_t image_size = options.at("size").get<int64_t>();
  CHORUS_CHECK(patch_size_ <= image_size, "patch_size ", patch_size_, " exceeds size ", image_size);
  if (options.at("arch").get<std::string>() == "vit") {
    Conv2dOptions o;
    o.stride = {patch_size_, patch_size_};
    patch = register_module(
        "patch", std::make_shared<modality::Conv2d>(channels_, width, patch_size_, o, gen));
    grid_ = image_size / patch_size_;
  } else {
    const int64_t n = stem_depth(patch_size_);
    CHORUS_CHECK(patch_size_ >= 2 && (int64_t{1} << n) == patch_size_,
                 "arch conv needs patch_size a power of two >= 2, got ", patch_size_);
    stem = register_module("stem", std::make_shared<nn::ModuleList>());
    int64_t in = channels_;
    for (int64_t i = 0; i < n; ++i) {
      // Channels double block by block up to `width` (width/4, width/2, width for 3 blocks).
      const int64_t out = std::max<int64_t>(width >> (n - 1 - i), std::min<int64_t>(16, width));
      stem_blocks_.push_back(stem->push_back(std::make_shared<StemBlock>(in, out, gen)));
      in = out;
    }
    grid_ = (image_size + patch_size_ - 1) / patch_size_;  // each stride-2 conv rounds up
  }
  cls = register_parameter("cls", nn::init::normal({width}, 0.0, 0.02, gen));
  nn::EmbeddingOptions eo;
  eo.init_std = 0.02;
  pos = register_module("pos", std::make_shared<nn::Embedding>(grid_ * grid_ + 1, width, gen, eo));
  transformer = register_module("transformer", std::make_shared<nn::Transformer>(config, gen));
  head = register_module(
      "head", std::make_shared<modality::SharedHead>(
                  width, shared_width, modality::parse_pooling(options.at("pooling")), gen));
}

Tensor ImageEncoder::front_end(const Tensor& pixels) const {
  if (patch) return patch->forward(pixels);
  Tensor x = pixels;
  for (const auto& block : stem_blocks_) x = block->forward(x);
  return x;
}

absl::StatusOr<plugin::EncoderOutput> ImageEncoder::encode(const data::Batch& batch) {
  return plugin::Guard(kWhat, [&]() -> absl::StatusOr<plugin::EncoderOutput> {
    auto pixels = modality::batch_tensor(batch, "pixels", 4, kWhat);
    if (!pixels.ok()) return pixels.status();
    if (!is_floating(pixels->dtype())) {
      return absl::InvalidArgumentError(absl::StrCat(
          kWhat, ": batch \"pixels\" must be floating point, got ", dtype_name(pixels->dtype())));
    }
    const int64_t B = pixels->size(0), C = pixels->size(1), H = pixels->size(2),
                  W = pixels->size(3);
    if (C != channels_) {
      return absl::InvalidArgumentError(absl::StrCat(kWhat, ": batch \"pixels\" ",
                                                     shape_str(pixels->shape()), " has ", C,
                                                     " channels, the encoder expects ", channels_));
    }
    if (H < patch_size_ || W < patch_size_) {
      return absl::InvalidArgumentError(absl::StrCat(
          kWhat, ": image ", H, "x", W, " is smaller than one patch (", patch_size_, ")"));
    }
    Tensor x = front_end(pixels->to(cls.dtype()));  // [B, width, gh, gw]
    const int64_t gh = x.size(2), gw = x.size(3);
    if (gh > grid_ || gw > grid_) {
      return absl::InvalidArgumentError(
          absl::StrCat(kWhat, ": image ", H, "x", W, " gives a ", gh, "x", gw,
                       " token grid, larger than the position table's ", grid_, "x", grid_,
                       " (raise the option size, or resize images in the decoder)"));
    }
    const int64_t width = x.size(1);
    x = x.flatten(2).transpose(1, 2);  // [B, gh·gw, width], row-major patches
    x = concat({cls.view({1, 1, width}).expand({B, 1, width}), x}, 1);
    // Row 0 of the table is CLS; patch (r, c) uses row 1 + r·grid + c, the same vector
    // whatever the image size, so smaller images use the top-left corner of the grid.
    std::vector<int64_t> rows = {0};
    for (int64_t r = 0; r < gh; ++r) {
      for (int64_t c = 0; c < gw; ++c) rows.push_back(1 + r * grid_ + c);
    }
    x = add(x, pos->forward(Tensor::from_vector<int64_t>(rows, {gh * gw + 1}).to(x.device())));
    nn::ForwardContext ctx;
    ctx.gen = &dropout_gen_;
    Tensor h = transformer->forward(x, ctx).y;
    return head->forward(h, Tensor::ones({B, gh * gw + 1}, DType::kU8, h.device()));
  });
}

absl::StatusOr<std::unique_ptr<plugin::Encoder>> make_image_encoder(
    const plugin::EncoderConfig& config) {
  return plugin::Guard(kWhat, [&]() -> absl::StatusOr<std::unique_ptr<plugin::Encoder>> {
    auto options = modality::resolve_options(image_encoder_options(), config.options, kWhat);
    if (!options.ok()) return options.status();
    return std::unique_ptr<plugin::Encoder>(
        std::make_unique<ImageEncoder>(*options, config.shared_width, config.seed));
  });
}

}  // namespace chorus::image
