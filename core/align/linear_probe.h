// Linear probe: multinomial logistic regression on frozen embeddings, trained with the engine's
// AdamW on mini-batches in a Philox-shuffled order, so the result is a pure function of the
// inputs and the seed. Features are standardised with the training set's mean and std.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor/tensor.h"

namespace chorus::align {

struct LinearProbeOptions {
  int epochs = 20;
  int64_t batch_size = 256;
  double lr = 1e-2;
  double weight_decay = 1e-4;
  uint64_t seed = 0;
};

struct LinearProbeResult {
  double train_accuracy = 0;
  double test_accuracy = 0;
  std::vector<double> epoch_loss;  // mean training cross-entropy per epoch
};

// train_x [N, D], test_x [M, D]; labels in [0, num_classes).
LinearProbeResult linear_probe(const Tensor& train_x, const std::vector<int64_t>& train_y,
                               const Tensor& test_x, const std::vector<int64_t>& test_y,
                               int64_t num_classes, const LinearProbeOptions& options = {});

}  // namespace chorus::align
