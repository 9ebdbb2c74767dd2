// A generic collator for fixed-shape samples: stacks every tensor name batch-first.
//
// Modality plugins ship their own collators (padding + "mask" for variable lengths); this one
// serves fixed-size inputs (28×28 images, fixed-length clips), the loader's tests and
// benchmarks. It copies with Tensor::copy_ (no autograd, no ops layer).
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "core/data/sample.h"

namespace chorus::data {

// Every sample must hold the same tensor names, each with one shape and dtype across samples;
// an error names the first tensor and sample that differ. Metadata is not carried over.
absl::StatusOr<Batch> stack_collate(const std::vector<Sample>& samples);

}  // namespace chorus::data
