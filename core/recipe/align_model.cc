#include "core/recipe/align_model.h"

#include <cmath>

#include "core/data/mixed_source.h"
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

  auto tasks = std::make_shared<ModuleDict>();
  for (const auto& stage : config.stages) {
    if (stage.kind != StageKind::kTask || !stage.task || tasks_.count(*stage.task)) continue;
    const TaskConfig* task = config.task(*stage.task);
    CHORUS_CHECK(task != nullptr, "stage '", stage.name, "': unknown task '", *stage.task, "'");
    for (const auto& m : task->modalities) {
      CHORUS_CHECK(encoders_.count(m), "task '", task->name, "': no encoder for modality '", m,
                   "'");
    }
    const uint64_t seed = data::mix_seed(config.run.seed, std::hash<std::string>{}(task->name));
    auto head = std::make_shared<TaskHead>(*task, config.model.core, shared_width_,
                                           config.data.num_classes.value_or(0), seed, gen);
    tasks->add(task->name, head);
    tasks_[task->name] = head;
  }
  if (!tasks_.empty()) register_module("tasks", tasks);
}

TaskHead* AlignModel::task_head(const std::string& task) const {
  auto it = tasks_.find(task);
  return it == tasks_.end() ? nullptr : it->second.get();
}

plugin::Encoder& AlignModel::encoder(const std::string& modality) const {
  auto it = encoders_.find(modality);
  CHORUS_CHECK(it != encoders_.end(), "align model: no encoder for modality '", modality, "'");
  return *it->second;
}

void AlignModel::place_on(Device device) {
  to(device);
  device_ = device;
}

absl::StatusOr<Tensor> AlignModel::embed(const std::string& modality,
                                         const data::Batch& batch) const {
  auto out = encode(modality, batch);
  if (!out.ok()) return out.status();
  return out->pooled;
}

absl::StatusOr<plugin::EncoderOutput> AlignModel::encode(const std::string& modality,
                                                         const data::Batch& batch) const {
  auto it = encoders_.find(modality);
  if (it == encoders_.end()) {
    return absl::NotFoundError("no encoder for modality '" + modality + "'");
  }
  data::Batch moved;
  const data::Batch* input = &batch;
  if (!device_.is_cpu()) {
    moved.size = batch.size;
    for (const auto& [name, t] : batch.tensors) {
      moved.tensors[name] = t.defined() && t.device() != device_ ? t.to(device_) : t;
    }
    input = &moved;
  }
  auto out = plugin::Encode(*it->second, *input);
  if (!out.ok()) {
    return absl::Status(out.status().code(),
                        "encoder '" + modality + "': " + std::string(out.status().message()));
  }
  if (!out->pooled.defined() || out->pooled.dim() != 2 || out->pooled.size(1) != shared_width_) {
    return absl::InternalError("encoder '" + modality + "' returned pooled embeddings of shape " +
                               (out->pooled.defined() ? shape_str(out->pooled.shape()) : "none") +
                               ", expected [B, " + std::to_string(shared_width_) + "]");
  }
  if (out->tokens.defined() &&
      (out->tokens.dim() != 3 || out->tokens.size(0) != out->pooled.size(0) ||
       out->tokens.size(2) != shared_width_)) {
    return absl::InternalError("encoder '" + modality + "' returned tokens of shape " +
                               shape_str(out->tokens.shape()) + ", expected [B, T, " +
                               std::to_string(shared_width_) + "]");
  }
  return std::move(*out);
}

}  // namespace chorus::recipe
