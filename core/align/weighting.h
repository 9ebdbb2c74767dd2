// Task-dependent modality weighting: how much each modality counts when its tokens are fused
// into the core transformer's input and in per-modality loss terms (e.g. VQA: image 0.7,
// question 0.3).
//
// Modes (the recipe's tasks.<task>.weighting):
//   kFixed            w_m from the recipe, the same for every sample; tokens and pooled
//                     embeddings are scaled by w_m (weights are used as given, not normalised).
//   kLearnedGate      per sample, a gated multimodal unit (GMU, Arevalo et al. 2017) generalised
//                     to M modalities: h_m = tanh(W_m x_m), z = softmax(W_z [x_1; …; x_M]) [B, M],
//                     fused = Σ_m z_m h_m; tokens of modality m are scaled by z_m. For M = 2 the
//                     softmax over two logits is GMU's σ(W[x_a; x_b]) gate.
//   kModalityDropout  the fixed weights, but at train time each modality is dropped per sample
//                     with probability p (at least one always survives) and the survivors are
//                     rescaled so the sample's weights keep their total. At eval: fixed weights.
// dropout > 0 in kLearnedGate mode masks the dropped modalities out of the gate's softmax.
// The weights actually used are returned per sample and as batch means for logging.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/nn/linear.h"
#include "core/nn/module.h"
#include "core/tensor/philox.h"
#include "core/tensor/tensor.h"

namespace chorus::align {

enum class WeightingMode { kFixed, kLearnedGate, kModalityDropout };

// "fixed", "gate" (or "learned"), "dropout"; nullopt-like failure throws naming the value.
WeightingMode weighting_mode_from_name(const std::string& name);
std::string weighting_mode_name(WeightingMode mode);

struct ModalityWeightingOptions {
  WeightingMode mode = WeightingMode::kFixed;
  std::vector<std::string> modalities;  // the order of inputs to forward()
  std::vector<double> weights;          // fixed / dropout base weights; empty: 1/M each
  double dropout = 0.0;                 // per-sample, per-modality drop probability (train only)
  int64_t dim = 0;                      // shared width D (needed by kLearnedGate)
  bool gate_projections = true;         // kLearnedGate: tanh(W_m x) (GMU) or x itself
  DType dtype = DType::kF32;
};

// One modality's encoder output. Either may be undefined, not both: tokens [B, T, D] with an
// optional mask [B, T] (1 = real token), pooled [B, D] (when absent: masked mean of tokens).
struct ModalityInput {
  Tensor tokens;
  Tensor mask;
  Tensor pooled;
};

struct WeightedModalities {
  Tensor weights;                    // [B, M] per-sample weights used (gate: differentiable)
  std::vector<double> mean_weights;  // [M] batch means, for metrics.jsonl
  Tensor tokens;                     // [B, ΣT, D] weighted tokens in modality order (if any)
  Tensor mask;                       // [B, ΣT] f32, dropped modalities' tokens masked out
  Tensor pooled;                     // [B, D] Σ_m w_m · (h_m or x_m)
};

class ModalityWeighting : public nn::Module {
 public:
  ModalityWeighting(const ModalityWeightingOptions& options, Generator& gen);

  // inputs[m] belongs to options.modalities[m]. `gen` draws the dropout masks (train mode,
  // dropout > 0); it is not used otherwise.
  WeightedModalities forward(const std::vector<ModalityInput>& inputs, Generator& gen) const;

  const ModalityWeightingOptions& options() const { return options_; }

  std::shared_ptr<nn::Linear> gate;                      // [M·D] -> M (kLearnedGate)
  std::vector<std::shared_ptr<nn::Linear>> projections;  // D -> D per modality (GMU's W_m)

 private:
  ModalityWeightingOptions options_;
};

// Σ_m w_m L_m for per-modality loss terms: a 0-dim L_m is weighted by the batch mean of
// weights[:, m]; a per-sample L_m [B] by weights[b, m] and averaged over the batch. Gradients
// flow into learned gate weights.
Tensor combine_modality_losses(const std::vector<Tensor>& losses, const Tensor& weights);

// Per-sample keep masks [B][M] (1 keep, 0 drop) from the Philox stream of `gen`: modality m of
// sample b is dropped iff its uniform draw is < p; if all are dropped, the one with the largest
// draw is kept. Exposed for tests.
std::vector<std::vector<uint8_t>> modality_keep_masks(int64_t batch, int64_t modalities, double p,
                                                      Generator& gen);

}  // namespace chorus::align
