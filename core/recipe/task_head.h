// TaskHead: one recipe task's fused classifier, the part of AlignModel named tasks.<task>.*:
//
//   tasks.<task>.weighting.*  align::ModalityWeighting (fixed / GMU gate / modality dropout)
//   tasks.<task>.proj.*       Linear D -> W into the core (only when model.core.width != D)
//   tasks.<task>.core.*       nn::Transformer of model.core (bidirectional, no rotary positions:
//                             the fused tokens are a set of modality tokens, not a sequence)
//   tasks.<task>.head.*       Linear W -> num_classes (D -> num_classes with pooled fusion)
//
// Forward (fusion: tokens): each modality's encoder tokens are scaled by its weight and
// concatenated [B, ΣT, D]; the core runs with the padded / dropped tokens masked out of
// attention; the masked mean of its output goes through the head. Fusion pooled skips the core:
// the head reads the weighted sum of the pooled embeddings (GMU's fused vector for the gate).
//
// Unimodal logits (per-modality loss terms and the ablation's unimodal accuracy) run the same
// core and head on one modality's unweighted tokens (or its pooled embedding) alone: the weight
// then scales that modality's loss term, not its evidence.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/align/weighting.h"
#include "core/nn/linear.h"
#include "core/nn/module.h"
#include "core/nn/transformer.h"
#include "core/recipe/config.h"
#include "core/tensor/philox.h"

namespace chorus::recipe {

struct TaskForward {
  Tensor logits;                       // [B, C] of the fused input
  align::WeightedModalities weighted;  // the weights used ([B, M]), batch means for logging
  std::vector<Tensor> unimodal;        // [B, C] per task modality (when asked for)
  Tensor aux_loss;                     // 0-dim MoE balancing losses of every core pass, or none
};

class TaskHead : public nn::Module {
 public:
  // Throws chorus::Error on an inconsistent core (e.g. heads not dividing the width).
  TaskHead(const TaskConfig& task, const CoreConfig& core, int64_t shared_width,
           int64_t num_classes, uint64_t seed, Generator& gen);

  // inputs[m] belongs to modalities()[m] (encoder tokens [B, T, D], mask [B, T], pooled
  // [B, D]). `gen` draws modality dropout masks and core dropout (training mode only).
  TaskForward forward(const std::vector<align::ModalityInput>& inputs, Generator& gen,
                      bool unimodal) const;

  // Loss-free MoE bias balancing: call once after every optimizer step (no-op without it).
  void after_step();

  const std::vector<std::string>& modalities() const { return task_.modalities; }
  const TaskConfig& task() const { return task_; }
  int64_t num_classes() const { return num_classes_; }

  std::shared_ptr<align::ModalityWeighting> weighting;
  std::shared_ptr<nn::Linear> proj;       // null when the core runs at D or fusion is pooled
  std::shared_ptr<nn::Transformer> core;  // null with fusion pooled
  std::shared_ptr<nn::Linear> head;

 private:
  // Core + masked mean + head on tokens [B, L, D] with mask [B, L] (f32 or u8, 1 = real).
  Tensor classify_tokens(const Tensor& tokens, const Tensor& mask, Generator& gen,
                         Tensor* aux) const;

  TaskConfig task_;
  int64_t num_classes_;
  bool bias_balancing_ = false;
};

// The align::WeightingMode of a recipe task's mode.
align::WeightingMode weighting_mode(WeightMode mode);

}  // namespace chorus::recipe
