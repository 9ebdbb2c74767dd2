// AlignModel: everything a recipe trains, as one nn::Module so that checkpoints, optimizers and
// trainable/frozen globs see one namespace of parameter names:
//
//   encoders.<modality>.*     one plugin encoder per recipe modality (projection included)
//   logit_scale.log_scale     the learnable CLIP temperature of the instance stage
//   cluster_head.*            Contrastive Clustering head (only when a stage uses it)
//   prototypes.weight         SwAV prototypes (only when a stage uses them)
//   tasks.<task>.*            a task's fused classifier (task_head.h), for every task a task
//                             stage trains (absent otherwise, so older checkpoints still load)
//
// The encoders come from plugins; embed() calls them through plugin::Encode so that an
// exception inside plugin code becomes a Status here. Batches arrive from the data loader in
// host memory; encode() moves them to the model's device (place_on) before the plugin sees them.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "chorus/plugin.h"
#include "core/align/contrastive_clustering.h"
#include "core/align/info_nce.h"
#include "core/align/swav.h"
#include "core/nn/module.h"
#include "core/recipe/config.h"
#include "core/recipe/task_head.h"
#include "core/tensor/philox.h"

namespace chorus::recipe {

// A named set of child modules ("encoders.image", "encoders.text", ...).
class ModuleDict : public nn::Module {
 public:
  ModuleDict() : nn::Module("ModuleDict") {}
  void add(const std::string& name, std::shared_ptr<nn::Module> module) {
    register_module(name, std::move(module));
  }
};

class AlignModel : public nn::Module {
 public:
  // `encoders`: modality name -> encoder made by its plugin with the recipe's shared width.
  AlignModel(const RecipeConfig& config,
             std::map<std::string, std::shared_ptr<plugin::Encoder>> encoders, Generator& gen);

  bool has(const std::string& modality) const { return encoders_.count(modality) > 0; }
  plugin::Encoder& encoder(const std::string& modality) const;
  const std::map<std::string, std::shared_ptr<plugin::Encoder>>& encoders() const {
    return encoders_;
  }

  // Pooled shared-space embeddings [B, D] of one modality's batch (not normalised).
  absl::StatusOr<Tensor> embed(const std::string& modality, const data::Batch& batch) const;
  // The encoder's whole output (tokens, mask, pooled), checked against the shared width.
  absl::StatusOr<plugin::EncoderOutput> encode(const std::string& modality,
                                               const data::Batch& batch) const;

  int64_t shared_width() const { return shared_width_; }
  // Moves every parameter and buffer to `device`; embed()/encode() then copy each batch's
  // tensors there first, so plugins and losses see device tensors only.
  void place_on(Device device);
  Device device() const { return device_; }
  const align::LogitScale& logit_scale() const { return *logit_scale_; }
  // Null when no stage of the recipe uses them.
  const align::ClusterHead* cluster_head() const { return cluster_head_.get(); }
  const align::Prototypes* prototypes() const { return prototypes_.get(); }
  // The task's head, or null when no task stage trains it.
  TaskHead* task_head(const std::string& task) const;
  const std::map<std::string, std::shared_ptr<TaskHead>>& task_heads() const { return tasks_; }

 private:
  int64_t shared_width_;
  Device device_ = Device::cpu();
  std::map<std::string, std::shared_ptr<plugin::Encoder>> encoders_;
  std::shared_ptr<align::LogitScale> logit_scale_;
  std::shared_ptr<align::ClusterHead> cluster_head_;
  std::shared_ptr<align::Prototypes> prototypes_;
  std::map<std::string, std::shared_ptr<TaskHead>> tasks_;
};

}  // namespace chorus::recipe
