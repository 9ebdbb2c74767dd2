#include "core/recipe/align_model.h"

#include <cmath>

#include "core/plugin/plugin.h"

namespace chorus::recipe {

AlignModel::AlignModel(const RecipeConfig& config,
                       std::map<std::string, std::shared_ptr<plugin::Encoder>> encoders,
                       Generator& gen)
    : nn::Module("AlignModel"),
      shared_width_(config.model.shared_width),
      encoders_(std::move(encoders)) {
  auto dict = std::make_shared<ModuleDict>();
  for (const auto& [name, encoder] : encoders_) {
    CHORUS_CHECK(encoder != nullptr, "align model: encoder '", name, "' is null");
    dict->add(name, encoder);
  }
  register_module("encoders", dict);

  // The instance loss's scale: the first instance stage's init/max settle it (they are the
  // same parameter across stages, as in CLIP/ImageBind).
  double init = std::log(1.0 / 0.07), max_log = std::log(100.0);
  for (const auto& stage : config.stages) {
    if (stage.losses.instance) {
      init = stage.losses.instance->init;
      max_log = stage.losses.instance->max;
      break;
    }
  }
  logit_scale_ = register_module(
      "logit_scale", std::make_shared<align::LogitScale>(std::exp(-init), std::exp(max_log)));

  for (const auto& stage : config.stages) {
    if (!stage.losses.cluster) continue;
    const auto& c = *stage.losses.cluster;
    if (c.method == ClusterMethod::kContrastive && !cluster_head_) {
      cluster_head_ = register_module(
          "cluster_head", std::make_shared<align::ClusterHead>(shared_width_, c.clusters, gen));
    }
    if (c.method == ClusterMethod::kSwav && !prototypes_) {
      prototypes_ = register_module(
          "prototypes", std::make_shared<align::Prototypes>(shared_width_, c.clusters, gen));
    }
  }
}

plugin::Encoder& AlignModel::encoder(const std::string& modality) const {
  auto it = encoders_.find(modality);
  CHORUS_CHECK(it != encoders_.end(), "align model: no encoder for modality '", modality, "'");
  return *it->second;
}

absl::StatusOr<Tensor> AlignModel::embed(const std::string& modality,
                                         const data::Batch& batch) const {
  auto it = encoders_.find(modality);
  if (it == encoders_.end()) {
    return absl::NotFoundError("no encoder for modality '" + modality + "'");
  }
  auto out = plugin::Encode(*it->second, batch);
  if (!out.ok()) {
    return absl::Status(out.status().code(),
                        "encoder '" + modality + "': " + std::string(out.status().message()));
  }
  if (!out->pooled.defined() || out->pooled.dim() != 2 || out->pooled.size(1) != shared_width_) {
    return absl::InternalError("encoder '" + modality + "' returned pooled embeddings of shape " +
                               (out->pooled.defined() ? shape_str(out->pooled.shape()) : "none") +
                               ", expected [B, " + std::to_string(shared_width_) + "]");
  }
  return out->pooled;
}

}  // namespace chorus::recipe
