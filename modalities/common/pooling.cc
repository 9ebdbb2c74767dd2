#include "modalities/common/pooling.h"

#include <limits>
#include <vector>

#include "core/ops/elementwise.h"
#include "core/ops/index.h"
#include "core/ops/reduce.h"

namespace chorus::modality {

Pooling parse_pooling(const std::string& name) {
  if (name == "cls") return Pooling::kCls;
  if (name == "mean") return Pooling::kMean;
  if (name == "eos") return Pooling::kEos;
  CHORUS_CHECK(false, "unknown pooling '", name, "' (expected cls, mean or eos)");
  return Pooling::kMean;
}

namespace {

Tensor masked_mean(const Tensor& tokens, const Tensor& mask) {
  const Tensor m = mask.to(tokens.dtype()).unsqueeze(-1);  // [B, T, 1]
  const Tensor total = sum(mul(tokens, m), {1});           // [B, D]
  const Tensor count = clamp(sum(m, {1}), 1.0, std::numeric_limits<double>::infinity());
  return div(total, count);
}

Tensor last_real(const Tensor& tokens, const Tensor& mask) {
  // The index of each row's last real token is data-dependent but tiny ([B]); find it on the
  // host and gather.
  const int64_t batch = tokens.size(0), length = tokens.size(1), width = tokens.size(2);
  const std::vector<uint8_t> m = mask.to(Device::cpu()).to_vector<uint8_t>();
  std::vector<int64_t> index(static_cast<size_t>(batch * width));
  for (int64_t b = 0; b < batch; ++b) {
    int64_t last = 0;
    for (int64_t t = 0; t < length; ++t) {
      if (m[static_cast<size_t>(b * length + t)] != 0) last = t;
    }
    for (int64_t d = 0; d < width; ++d) index[static_cast<size_t>(b * width + d)] = last;
  }
  Tensor idx = Tensor::from_vector<int64_t>(index, {batch, 1, width}).to(tokens.device());
  return gather(tokens, 1, idx).squeeze(1);
}

}  // namespace

Tensor pool(const Tensor& tokens, const Tensor& mask, Pooling pooling) {
  CHORUS_CHECK(tokens.dim() == 3, "pool: tokens must be [B, T, D], got ",
               shape_str(tokens.shape()));
  CHORUS_CHECK(mask.dim() == 2 && mask.size(0) == tokens.size(0) && mask.size(1) == tokens.size(1),
               "pool: mask ", shape_str(mask.shape()), " does not match tokens ",
               shape_str(tokens.shape()));
  switch (pooling) {
    case Pooling::kCls:
      return tokens.select(1, 0);
    case Pooling::kMean:
      return masked_mean(tokens, mask);
    case Pooling::kEos:
      return last_real(tokens, mask);
  }
  return masked_mean(tokens, mask);
}

Tensor padding_mask(const Tensor& mask) { return eq(mask, 0.0); }

}  // namespace chorus::modality
