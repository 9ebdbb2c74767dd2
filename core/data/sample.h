// Sample and Batch: what a modality decoder produces and what an encoder consumes.
//
// These are plain value types of the data layer so that the loader (core/data) can move decoded
// samples between threads and batch them without knowing which modality made them. A modality
// names its tensors itself ("pixels", "ids", "mel", ...); only its own collator and encoder read
// them. Convention for variable-length inputs: a "mask" tensor, u8 [B, T], 1 = real position.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/tensor/tensor.h"
#include "nlohmann/json.hpp"

namespace chorus::data {

// One decoded input (one image, one clip, one caption). Tensors are unbatched.
struct Sample {
  std::map<std::string, Tensor> tensors;               // e.g. "pixels" f32 [3, H, W]; "ids" i64 [T]
  nlohmann::json metadata = nlohmann::json::object();  // e.g. {"width": 28, "sample_rate": 16000}
};

// Several samples of one modality stacked batch-first by that modality's collator.
struct Batch {
  std::map<std::string, Tensor> tensors;  // e.g. "pixels" [B, 3, H, W]; "ids"/"mask" [B, T]
  int64_t size = 0;                       // B
};

// How a decoder should treat one sample. The loader derives `seed` from (run seed, epoch,
// sample index), so the same sample gets the same augmentation on every run and on resume.
struct DecodeOptions {
  bool augment = false;  // training-time random augmentation (crop, flip, ...) on/off
  uint64_t seed = 0;
};

}  // namespace chorus::data
