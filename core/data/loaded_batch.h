// What the Loader hands the trainer: one batch of samples with every modality they carry.
//
// Samples may lack a modality (an image-only line next to image+audio lines). Choice: GROUP, not
// pad. Each modality's data::Batch holds only the samples that have it, stacked by that
// modality's collator; `rows` maps its i-th entry to the row of the LoadedBatch it belongs to,
// and `present` (u8 [B]) marks those rows. An objective pairing image i with audio i takes the
// rows present in both. Grouping keeps collators simple (they never see a hole) and encoders
// never spend compute on placeholder inputs.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/data/mixed_source.h"
#include "core/data/sample.h"
#include "core/tensor/tensor.h"

namespace chorus::data {

struct ModalityBatch {
  Batch batch;                // batch.size == rows.size()
  std::vector<int64_t> rows;  // ascending rows of the LoadedBatch that have this modality
  Tensor present;             // u8 [B]: 1 where the row has this modality
};

struct LoadedBatch {
  int64_t epoch = 0;
  int64_t index = 0;  // batch number within the epoch (on this rank)
  int64_t size = 0;   // B: the samples that decoded (bad ones are dropped, so B may be short)
  std::map<std::string, ModalityBatch> modalities;
  Tensor labels;                 // i64 [B]; -1 where the manifest line has no label
  std::vector<std::string> ids;  // [B] manifest entry ids
  std::vector<SampleRef> refs;   // [B] (manifest, entry, epoch position): MixedSource::entry()
  std::vector<uint64_t> seeds;   // [B] the DecodeOptions::seed each sample was decoded with

  bool has(const std::string& modality) const { return modalities.count(modality) > 0; }
};

}  // namespace chorus::data
