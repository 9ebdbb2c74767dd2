#include "modalities/common/encoder_parts.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/ops/elementwise.h"
#include "core/tensor/error.h"

namespace chorus::modality {

using plugin::OptionSpec;
using plugin::OptionType;

plugin::OptionSchema transformer_option_specs(int64_t width, int64_t depth, int64_t heads,
                                              int64_t ff_mult) {
  return {
      OptionSpec{"width", OptionType::kInt, width, "transformer width", {}, 8, 65536},
      OptionSpec{"depth", OptionType::kInt, depth, "number of transformer blocks", {}, 0, 1024},
      OptionSpec{
          "heads", OptionType::kInt, heads, "attention heads (must divide width)", {}, 1, 1024},
      OptionSpec{
          "ff_mult", OptionType::kInt, ff_mult, "MLP hidden width = ff_mult * width", {}, 1, 64},
      OptionSpec{"dropout",
                 OptionType::kFloat,
                 0.0,
                 "dropout on each sublayer output while training",
                 {},
                 0.0,
                 0.9},
  };
}

nn::TransformerConfig transformer_config(const plugin::Options& options) {
  nn::TransformerConfig c;
  c.width = options.at("width").get<int64_t>();
  c.depth = options.at("depth").get<int64_t>();
  c.n_heads = options.at("heads").get<int64_t>();
  CHORUS_CHECK(c.width % c.n_heads == 0, "width ", c.width, " is not a multiple of heads ",
               c.n_heads);
  c.ffn = nn::FfnKind::kMLP;
  c.ffn_hidden = options.at("ff_mult").get<int64_t>() * c.width;
  c.norm = nn::NormKind::kLayerNorm;
  c.causal = false;
  c.rope = false;
  c.bias = true;
  c.dropout = options.at("dropout").get<double>();
  c.validate();
  return c;
}

SharedHead::SharedHead(int64_t width, int64_t shared_width, Pooling pooling, Generator& gen)
    : Module("SharedHead"), pooling_(pooling) {
  CHORUS_CHECK(shared_width > 0, "shared width must be positive, got ", shared_width);
  nn::LinearOptions lo;
  lo.bias = false;
  // CLIP's projection init: keeps the output scale of unit-variance normalised features.
  lo.init_std = 1.0 / std::sqrt(static_cast<double>(width));
  proj = register_module("proj", std::make_shared<nn::Linear>(width, shared_width, gen, lo));
}

plugin::EncoderOutput SharedHead::forward(const Tensor& h, const Tensor& mask) const {
  plugin::EncoderOutput out;
  out.tokens = proj->forward(h);
  out.mask = mask;
  out.pooled = pool(out.tokens, mask, pooling_);
  return out;
}

absl::StatusOr<Tensor> batch_tensor(const data::Batch& batch, const std::string& name, int64_t rank,
                                    const std::string& what) {
  auto it = batch.tensors.find(name);
  if (it == batch.tensors.end() || !it->second.defined()) {
    std::string have;
    for (const auto& [k, v] : batch.tensors) absl::StrAppend(&have, have.empty() ? "" : ", ", k);
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the batch has no \"", name,
                     "\" tensor (it has: ", have.empty() ? "none" : have, ")"));
  }
  const Tensor& t = it->second;
  if (t.dim() != rank) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": batch tensor \"", name, "\" must have ",
                                                   rank, " dims, got ", shape_str(t.shape())));
  }
  if (batch.size != 0 && t.size(0) != batch.size) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": batch tensor \"", name, "\" has ",
                                                   t.size(0), " rows but the batch size is ",
                                                   batch.size));
  }
  if (t.size(0) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": batch tensor \"", name, "\" is empty ", shape_str(t.shape())));
  }
  return t;
}

absl::StatusOr<Tensor> batch_mask(const data::Batch& batch, int64_t B, int64_t T,
                                  const std::string& what, Device device) {
  auto it = batch.tensors.find("mask");
  if (it == batch.tensors.end() || !it->second.defined()) {
    return Tensor::ones({B, T}, DType::kU8, device);
  }
  const Tensor& m = it->second;
  if (m.dim() != 2 || m.size(0) != B || m.size(1) != T) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": batch \"mask\" must be [", B, ", ", T,
                                                   "], got ", shape_str(m.shape())));
  }
  if (is_floating(m.dtype())) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": batch \"mask\" must be u8 (1 = real), got ", dtype_name(m.dtype())));
  }
  return m.dtype() == DType::kU8 ? m : ne(m, Tensor::scalar(0, m.dtype())).to(DType::kU8);
}

}  // namespace chorus::modality
