#include "modalities/text/encoder.h"

#include "absl/strings/str_cat.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "modalities/common/options.h"
#include "modalities/text/decoder.h"

namespace chorus::text {
namespace {

using plugin::OptionSpec;
using plugin::OptionType;

constexpr const char* kWhat = "text encoder";

}  // namespace

plugin::OptionSchema text_encoder_options() {
  plugin::OptionSchema schema = {
      OptionSpec{"vocab_size",
                 OptionType::kInt,
                 0,
                 "token embedding rows (0 = the tokenizer's vocabulary size)",
                 {},
                 0,
                 1 << 24},
      OptionSpec{"tokenizer", OptionType::kPath, "",
                 "tokenizer JSON written by `chorus tokenizer train` (\"\" = plain bytes)"},
      OptionSpec{"max_length",
                 OptionType::kInt,
                 64,
                 "longest token sequence, BOS and EOS included (size of the position table)",
                 {},
                 3,
                 1 << 20},
  };
  for (OptionSpec& s : modality::transformer_option_specs(128, 2, 4, 4)) schema.push_back(s);
  schema.push_back(OptionSpec{"pooling",
                              OptionType::kString,
                              "mean",
                              "pooled embedding: cls (first token, <bos>), mean over real "
                              "tokens, or eos (last real token)",
                              {"cls", "mean", "eos"}});
  return schema;
}

TextEncoder::TextEncoder(const plugin::Options& options, int64_t shared_width, uint64_t seed)
    : plugin::Encoder("TextEncoder"), dropout_gen_(seed ^ 0x9e3779b97f4a7c15ull) {
  Generator gen(seed);
  const nn::TransformerConfig config = modality::transformer_config(options);
  nn::EmbeddingOptions eo;
  eo.init_std = 0.02;
  eo.padding_idx = kPadId;
  embed =
      register_module("embed", std::make_shared<nn::Embedding>(
                                   options.at("vocab_size").get<int64_t>(), config.width, gen, eo));
  pos = register_module("pos", std::make_shared<nn::PositionalEmbedding>(
                                   options.at("max_length").get<int64_t>(), config.width, gen));
  transformer = register_module("transformer", std::make_shared<nn::Transformer>(config, gen));
  head = register_module(
      "head", std::make_shared<modality::SharedHead>(
                  config.width, shared_width, modality::parse_pooling(options.at("pooling")), gen));
}

absl::StatusOr<plugin::EncoderOutput> TextEncoder::encode(const data::Batch& batch) {
  return plugin::Guard(kWhat, [&]() -> absl::StatusOr<plugin::EncoderOutput> {
    auto ids = modality::batch_tensor(batch, "ids", 2, kWhat);
    if (!ids.ok()) return ids.status();
    if (ids->dtype() != DType::kI64 && ids->dtype() != DType::kI32) {
      return absl::InvalidArgumentError(absl::StrCat(
          kWhat, ": batch \"ids\" must be i64 token ids, got ", dtype_name(ids->dtype())));
    }
    const int64_t B = ids->size(0), T = ids->size(1);
    if (T == 0 || T > pos->max_length()) {
      return absl::InvalidArgumentError(absl::StrCat(
          kWhat, ": sequence length ", T, " is outside [1, max_length = ", pos->max_length(), "]"));
    }
    auto mask = modality::batch_mask(batch, B, T, kWhat, ids->device());
    if (!mask.ok()) return mask.status();
    {
      const Tensor lo = amin(*ids), hi = amax(*ids);
      if (lo.item() < 0 || hi.item() >= static_cast<double>(vocab_size())) {
        return absl::InvalidArgumentError(absl::StrCat(
            kWhat, ": token ids span [", lo.item(), ", ", hi.item(), "] but the vocabulary has ",
            vocab_size(), " entries (does the tokenizer match the encoder's vocab_size?)"));
      }
    }
    Tensor x = add(embed->forward(*ids), pos->forward(T));
    nn::ForwardContext ctx;
    ctx.key_padding_mask = modality::padding_mask(*mask);
    ctx.gen = &dropout_gen_;
    Tensor h = transformer->forward(x, ctx).y;
    return head->forward(h, *mask);
  });
}

absl::StatusOr<std::unique_ptr<plugin::Encoder>> make_text_encoder(
    const plugin::EncoderConfig& config) {
  return plugin::Guard(kWhat, [&]() -> absl::StatusOr<std::unique_ptr<plugin::Encoder>> {
    auto options = modality::resolve_options(text_encoder_options(), config.options, kWhat);
    if (!options.ok()) return options.status();
    if ((*options)["vocab_size"].get<int64_t>() == 0) {
      auto tokenizer = tokenizer_from_options(*options);
      if (!tokenizer.ok()) return tokenizer.status();
      (*options)["vocab_size"] = tokenizer->vocab_size();
    }
    return std::unique_ptr<plugin::Encoder>(
        std::make_unique<TextEncoder>(*options, config.shared_width, config.seed));
  });
}

}  // namespace chorus::text
