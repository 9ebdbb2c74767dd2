// One pass over an evaluation split, shared by the evaluator (embeddings per modality) and the
// task heads' evaluation: opens the split's loader (no shuffling, no augmentation), puts the
// model in eval mode with gradients off for the pass (restored afterwards, also on error), and
// hands each batch to `visit` with the number of its leading lines that count: all of them,
// except in the last batch when `max_samples` (> 0) ends inside it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "core/data/loader.h"
#include "core/nn/module.h"
#include "core/recipe/data_setup.h"

namespace chorus::recipe {

using EvalBatchVisitor = std::function<absl::Status(const data::LoadedBatch& batch, int64_t take)>;

// Returns the number of lines that counted (at most max_samples when it is > 0), or the first
// error of the loader or of `visit`.
absl::StatusOr<int64_t> for_each_eval_batch(const DataSetup& data, const std::string& split,
                                            int64_t batch_size, int64_t max_samples,
                                            nn::Module& model, const EvalBatchVisitor& visit);

}  // namespace chorus::recipe
