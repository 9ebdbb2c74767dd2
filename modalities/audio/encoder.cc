#include "modalities/audio/encoder.h"

#include "absl/strings/str_cat.h"
#include "core/nn/init.h"
#include "core/ops/elementwise.h"
#include "core/ops/join.h"
#include "modalities/common/options.h"

namespace chorus::audio {
namespace {

using plugin::OptionSpec;
using plugin::OptionType;

constexpr const char* kWhat = "audio encoder";

int64_t log2_exact(int64_t v) {
  int64_t n = 0;
  while ((int64_t{1} << n) < v) ++n;
  return (int64_t{1} << n) == v ? n : -1;
}

// Zeroes masked frames: x [B, C, L], mask u8 [B, L].
Tensor apply_mask(const Tensor& x, const Tensor& mask) {
  return mul(x, mask.to(x.dtype()).unsqueeze(1));
}

}  // namespace

plugin::OptionSchema audio_encoder_options() {
  plugin::OptionSchema schema = {
      OptionSpec{"n_mels", OptionType::kInt, 80, "mel bins of the input spectrogram", {}, 1, 1024},
      OptionSpec{"frontend",
                 OptionType::kString,
                 "conv",
                 "conv (stride-2 conv1d layers, as Whisper) or patch (non-overlapping frame "
                 "patches)",
                 {"conv", "patch"}},
      OptionSpec{
          "stride", OptionType::kInt, 4, "frames per token (conv: a power of two)", {}, 1, 1024},
      OptionSpec{"max_frames",
                 OptionType::kInt,
                 3000,
                 "longest spectrogram in frames (size of the position table; 100 frames = 1 s)",
                 {},
                 1,
                 1 << 22},
  };
  for (OptionSpec& s : modality::transformer_option_specs(128, 2, 4, 4)) schema.push_back(s);
  schema.push_back(OptionSpec{"pooling",
                              OptionType::kString,
                              "mean",
                              "pooled embedding: mean over real tokens, or cls (a learned CLS "
                              "token put first)",
                              {"cls", "mean"}});
  return schema;
}

Tensor downsample_mask(const Tensor& mask, int64_t factor) {
  const int64_t B = mask.size(0), L = mask.size(1), out = (L + factor - 1) / factor;
  const std::vector<uint8_t> m = mask.to(Device::cpu()).to_vector<uint8_t>();
  std::vector<uint8_t> d(static_cast<size_t>(B * out), 0);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < L; ++t) {
      if (m[static_cast<size_t>(b * L + t)]) d[static_cast<size_t>(b * out + t / factor)] = 1;
    }
  }
  return Tensor::from_vector<uint8_t>(d, {B, out}).to(mask.device());
}

AudioEncoder::AudioEncoder(const plugin::Options& options, int64_t shared_width, uint64_t seed)
    : plugin::Encoder("AudioEncoder"), dropout_gen_(seed ^ 0x9e3779b97f4a7c15ull) {
  Generator gen(seed);
  const nn::TransformerConfig config = modality::transformer_config(options);
  const int64_t width = config.width;
  n_mels_ = options.at("n_mels").get<int64_t>();
  stride_ = options.at("stride").get<int64_t>();
  max_frames_ = options.at("max_frames").get<int64_t>();
  patch_ = options.at("frontend").get<std::string>() == "patch";
  front = register_module("front", std::make_shared<nn::ModuleList>());
  if (patch_) {
    Conv1dOptions o;
    o.stride = stride_;
    convs_.push_back(
        front->push_back(std::make_shared<modality::Conv1d>(n_mels_, width, stride_, o, gen)));
  } else {
    const int64_t n = log2_exact(stride_);
    CHORUS_CHECK(n >= 0, "frontend conv needs stride a power of two, got ", stride_);
    for (int64_t i = 0; i < std::max<int64_t>(n, 1); ++i) {
      Conv1dOptions o;
      o.stride = n == 0 ? 1 : 2;
      o.padding = 1;
      convs_.push_back(front->push_back(
          std::make_shared<modality::Conv1d>(i == 0 ? n_mels_ : width, width, 3, o, gen)));
    }
  }
  const bool with_cls = options.at("pooling").get<std::string>() == "cls";
  if (with_cls) cls = register_parameter("cls", nn::init::normal({width}, 0.0, 0.02, gen));
  nn::EmbeddingOptions eo;
  eo.init_std = 0.02;
  const int64_t positions = (max_frames_ + stride_ - 1) / stride_ + (with_cls ? 1 : 0);
  pos = register_module("pos", std::make_shared<nn::Embedding>(positions, width, gen, eo));
  transformer = register_module("transformer", std::make_shared<nn::Transformer>(config, gen));
  head = register_module(
      "head", std::make_shared<modality::SharedHead>(
                  width, shared_width, modality::parse_pooling(options.at("pooling")), gen));
}

absl::StatusOr<plugin::EncoderOutput> AudioEncoder::encode(const data::Batch& batch) {
  return plugin::Guard(kWhat, [&]() -> absl::StatusOr<plugin::EncoderOutput> {
    auto mel = modality::batch_tensor(batch, "mel", 3, kWhat);
    if (!mel.ok()) return mel.status();
    if (!is_floating(mel->dtype())) {
      return absl::InvalidArgumentError(absl::StrCat(
          kWhat, ": batch \"mel\" must be floating point, got ", dtype_name(mel->dtype())));
    }
    const int64_t B = mel->size(0), frames = mel->size(2);
    if (mel->size(1) != n_mels_) {
      return absl::InvalidArgumentError(absl::StrCat(kWhat, ": batch \"mel\" ",
                                                     shape_str(mel->shape()), " has ", mel->size(1),
                                                     " mel bins, the encoder expects ", n_mels_));
    }
    if (frames == 0 || frames > max_frames_) {
      return absl::InvalidArgumentError(absl::StrCat(
          kWhat, ": ", frames, " frames is outside [1, max_frames = ", max_frames_, "]"));
    }
    auto frame_mask = modality::batch_mask(batch, B, frames, kWhat, mel->device());
    if (!frame_mask.ok()) return frame_mask.status();

    Tensor mask = *frame_mask;
    Tensor x = mel->to(pos->weight.dtype());
    if (patch_) {
      const int64_t padded = (frames + stride_ - 1) / stride_ * stride_;
      x = apply_mask(x, mask);
      if (padded != frames) {
        x = concat({x, Tensor::zeros({B, n_mels_, padded - frames}, x.dtype(), x.device())}, 2);
      }
      x = convs_[0]->forward(x);
      mask = downsample_mask(mask, stride_);
    } else {
      for (const auto& conv : convs_) {
        x = gelu(conv->forward(apply_mask(x, mask)));
        if (x.size(2) != mask.size(1)) mask = downsample_mask(mask, 2);
      }
    }
    x = x.transpose(1, 2);  // [B, T, width]
    const int64_t width = x.size(2);
    if (cls.defined()) {
      x = concat({cls.view({1, 1, width}).expand({B, 1, width}), x}, 1);
      mask = concat({Tensor::ones({B, 1}, DType::kU8, mask.device()), mask}, 1);
    }
    x = add(x, pos->forward(Tensor::arange(0, x.size(1)).to(x.device())));
    nn::ForwardContext ctx;
    ctx.key_padding_mask = modality::padding_mask(mask);
    ctx.gen = &dropout_gen_;
    Tensor h = transformer->forward(x, ctx).y;
    return head->forward(h, mask);
  });
}

absl::StatusOr<std::unique_ptr<plugin::Encoder>> make_audio_encoder(
    const plugin::EncoderConfig& config) {
  return plugin::Guard(kWhat, [&]() -> absl::StatusOr<std::unique_ptr<plugin::Encoder>> {
    auto options = modality::resolve_options(audio_encoder_options(), config.options, kWhat);
    if (!options.ok()) return options.status();
    return std::unique_ptr<plugin::Encoder>(
        std::make_unique<AudioEncoder>(*options, config.shared_width, config.seed));
  });
}

}  // namespace chorus::audio
