#include "core/align/weighting.h"

#include <numeric>

#include "core/ops/elementwise.h"
#include "core/ops/join.h"
#include "core/ops/reduce.h"
#include "core/ops/softmax.h"

namespace chorus::align {

WeightingMode weighting_mode_from_name(const std::string& name) {
  if (name == "fixed") return WeightingMode::kFixed;
  if (name == "gate" || name == "learned") return WeightingMode::kLearnedGate;
  if (name == "dropout") return WeightingMode::kModalityDropout;
  CHORUS_CHECK(false, "modality weighting mode '", name,
               "' is not one of: fixed, gate (learned), dropout");
  return WeightingMode::kFixed;
}

std::string weighting_mode_name(WeightingMode mode) {
  switch (mode) {
    case WeightingMode::kFixed:
      return "fixed";
    case WeightingMode::kLearnedGate:
      return "gate";
    case WeightingMode::kModalityDropout:
      return "dropout";
  }
  return "?";
}

ModalityWeighting::ModalityWeighting(const ModalityWeightingOptions& options, Generator& gen)
    : Module("ModalityWeighting"), options_(options) {
  const int64_t m = static_cast<int64_t>(options_.modalities.size());
  CHORUS_CHECK(m >= 1, "ModalityWeighting: no modalities given");
  if (options_.weights.empty()) options_.weights.assign(m, 1.0 / static_cast<double>(m));
  CHORUS_CHECK(static_cast<int64_t>(options_.weights.size()) == m,
               "ModalityWeighting: ", options_.weights.size(), " weights for ", m, " modalities");
  for (size_t i = 0; i < options_.weights.size(); ++i) {
    CHORUS_CHECK(options_.weights[i] >= 0, "ModalityWeighting: weight of '", options_.modalities[i],
                 "' is negative (", options_.weights[i], ")");
  }
  CHORUS_CHECK(options_.dropout >= 0 && options_.dropout < 1,
               "ModalityWeighting: dropout must lie in [0, 1), got ", options_.dropout);
  if (options_.mode == WeightingMode::kLearnedGate) {
    CHORUS_CHECK(options_.dim > 0, "ModalityWeighting: the learned gate needs the shared width");
    nn::LinearOptions lo;
    lo.dtype = options_.dtype;
    gate = register_module("gate", std::make_shared<nn::Linear>(m * options_.dim, m, gen, lo));
    if (options_.gate_projections) {
      for (int64_t i = 0; i < m; ++i) {
        projections.push_back(
            register_module("proj_" + options_.modalities[i],
                            std::make_shared<nn::Linear>(options_.dim, options_.dim, gen, lo)));
      }
    }
  }
}

std::vector<std::vector<uint8_t>> modality_keep_masks(int64_t batch, int64_t modalities, double p,
                                                      Generator& gen) {
  const uint64_t offset = gen.reserve(static_cast<uint64_t>(batch * modalities));
  std::vector<std::vector<uint8_t>> keep(batch, std::vector<uint8_t>(modalities, 1));
  for (int64_t b = 0; b < batch; ++b) {
    int64_t best = 0, kept = 0;
    float best_u = -1;
    for (int64_t m = 0; m < modalities; ++m) {
      const float u = uniform_from_word(
          philox_word(gen.seed(), offset, static_cast<uint64_t>(b * modalities + m)));
      keep[b][m] = u >= p;
      kept += keep[b][m];
      if (u > best_u) best_u = u, best = m;
    }
    if (kept == 0) keep[b][best] = 1;
  }
  return keep;
}

namespace {

// Masked mean of tokens [B, T, D] over T (mask [B, T] or all ones).
Tensor masked_mean(const Tensor& tokens, const Tensor& mask) {
  if (!mask.defined()) return mean(tokens, {1});
  const Tensor m = mask.to(tokens.dtype()).unsqueeze(-1);
  return div(sum(mul(tokens, m), {1}), clamp(sum(m, {1}), 1.0, 1e30));
}

}  // namespace

WeightedModalities ModalityWeighting::forward(const std::vector<ModalityInput>& inputs,
                                              Generator& gen) const {
  const int64_t m = static_cast<int64_t>(options_.modalities.size());
  CHORUS_CHECK(static_cast<int64_t>(inputs.size()) == m, "ModalityWeighting: got ", inputs.size(),
               " inputs for ", m, " modalities");
  int64_t batch = -1;
  std::vector<Tensor> pooled(m);
  for (int64_t i = 0; i < m; ++i) {
    const ModalityInput& in = inputs[i];
    const std::string& name = options_.modalities[i];
    CHORUS_CHECK(in.tokens.defined() || in.pooled.defined(), "ModalityWeighting: modality '", name,
                 "' has neither tokens nor a pooled embedding");
    if (in.tokens.defined()) {
      CHORUS_CHECK(in.tokens.dim() == 3, "ModalityWeighting: tokens of '", name,
                   "' must be [B, T, D], got ", shape_str(in.tokens.shape()));
      const bool mask_ok =
          !in.mask.defined() || (in.mask.dim() == 2 && in.mask.size(0) == in.tokens.size(0) &&
                                 in.mask.size(1) == in.tokens.size(1));
      CHORUS_CHECK(mask_ok, "ModalityWeighting: mask of '", name, "' must be [B, T] for tokens ",
                   shape_str(in.tokens.shape()));
    }
    pooled[i] = in.pooled.defined() ? in.pooled : masked_mean(in.tokens, in.mask);
    CHORUS_CHECK(pooled[i].dim() == 2, "ModalityWeighting: pooled embedding of '", name,
                 "' must be [B, D], got ", shape_str(pooled[i].shape()));
    CHORUS_CHECK(batch < 0 || pooled[i].size(0) == batch, "ModalityWeighting: modality '", name,
                 "' has batch ", pooled[i].size(0), ", expected ", batch);
    batch = pooled[i].size(0);
  }
  const DType dt = pooled[0].dtype();
  const bool drop = is_training() && options_.dropout > 0 && options_.mode != WeightingMode::kFixed;
  std::vector<std::vector<uint8_t>> keep(batch, std::vector<uint8_t>(m, 1));
  if (drop) keep = modality_keep_masks(batch, m, options_.dropout, gen);

  WeightedModalities out;
  std::vector<Tensor> values = pooled;  // what the fused pooled embedding mixes
  if (options_.mode == WeightingMode::kLearnedGate) {
    CHORUS_CHECK(pooled[0].size(1) == options_.dim, "ModalityWeighting: embeddings are ",
                 pooled[0].size(1), " wide, the gate was built for ", options_.dim);
    std::vector<double> bias(static_cast<size_t>(batch * m), 0.0);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t i = 0; i < m; ++i) bias[b * m + i] = keep[b][i] ? 0.0 : -1e9;
    Tensor logits = gate->forward(concat(pooled, 1));
    if (drop) {
      logits =
          add(logits, Tensor::from_doubles(bias, {batch, m}, logits.dtype()).to(logits.device()));
    }
    out.weights = softmax(logits, 1);
    if (options_.gate_projections) {
      for (int64_t i = 0; i < m; ++i) values[i] = tanh(projections[i]->forward(pooled[i]));
    }
  } else {
    const double base_total =
        std::accumulate(options_.weights.begin(), options_.weights.end(), 0.0);
    std::vector<double> w(static_cast<size_t>(batch * m));
    for (int64_t b = 0; b < batch; ++b) {
      double kept_total = 0;
      for (int64_t i = 0; i < m; ++i) kept_total += keep[b][i] ? options_.weights[i] : 0.0;
      // Rescale survivors so a sample's weights keep their total (unless all that survived
      // had weight 0, which leaves nothing to rescale).
      const double r = kept_total > 0 ? base_total / kept_total : 0.0;
      for (int64_t i = 0; i < m; ++i) w[b * m + i] = keep[b][i] ? options_.weights[i] * r : 0.0;
    }
    out.weights = Tensor::from_doubles(w, {batch, m}, dt).to(pooled[0].device());
  }

  const Tensor w_detached = out.weights.detach().to(Device::cpu()).to(DType::kF64).contiguous();
  out.mean_weights.assign(m, 0.0);
  const double* wp = w_detached.data<double>();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < m; ++i)
      out.mean_weights[i] += wp[b * m + i] / static_cast<double>(batch);

  std::vector<Tensor> token_parts, mask_parts;
  for (int64_t i = 0; i < m; ++i) {
    const Tensor wi = out.weights.select(1, i).reshape({batch, 1});  // [B, 1]
    const Tensor term = mul(values[i], wi);
    out.pooled = out.pooled.defined() ? add(out.pooled, term) : term;
    const ModalityInput& in = inputs[i];
    if (!in.tokens.defined()) continue;
    token_parts.push_back(mul(in.tokens, wi.unsqueeze(-1)));
    std::vector<double> keep_col(static_cast<size_t>(batch));
    for (int64_t b = 0; b < batch; ++b) keep_col[b] = keep[b][i];
    Tensor mk = Tensor::from_doubles(keep_col, {batch, 1}, DType::kF32)
                    .to(in.tokens.device())
                    .expand({batch, in.tokens.size(1)});
    if (in.mask.defined()) mk = mul(mk, in.mask.to(DType::kF32));
    mask_parts.push_back(mk.contiguous());
  }
  if (!token_parts.empty()) {
    out.tokens = concat(token_parts, 1);
    out.mask = concat(mask_parts, 1);
  }
  return out;
}

Tensor combine_modality_losses(const std::vector<Tensor>& losses, const Tensor& weights) {
  CHORUS_CHECK(weights.dim() == 2 && weights.size(1) == static_cast<int64_t>(losses.size()),
               "combine_modality_losses: ", losses.size(), " loss terms for weights ",
               shape_str(weights.shape()));
  const int64_t batch = weights.size(0);
  Tensor total;
  for (size_t i = 0; i < losses.size(); ++i) {
    const Tensor col = weights.select(1, static_cast<int64_t>(i));  // [B]
    Tensor term;
    if (losses[i].numel() == 1) {
      term = mul(losses[i].reshape({}), mean(col));
    } else {
      CHORUS_CHECK(losses[i].dim() == 1 && losses[i].size(0) == batch,
                   "combine_modality_losses: loss term ", i, " has shape ",
                   shape_str(losses[i].shape()), "; expected one value or one per sample (", batch,
                   ")");
      term = mean(mul(losses[i], col));
    }
    total = total.defined() ? add(total, term) : term;
  }
  return total;
}

}  // namespace chorus::align
