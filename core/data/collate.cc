#include "core/data/collate.h"

#include "absl/strings/str_cat.h"
#include "core/tensor/shape.h"

namespace chorus::data {

absl::StatusOr<Batch> stack_collate(const std::vector<Sample>& samples) {
  if (samples.empty()) return absl::InvalidArgumentError("stack_collate: no samples");
  const Sample& first = samples[0];
  Batch batch;
  batch.size = static_cast<int64_t>(samples.size());
  for (const auto& [name, t0] : first.tensors) {
    if (!t0.defined()) {
      return absl::InvalidArgumentError(absl::StrCat("stack_collate: \"", name, "\" is undefined"));
    }
    Shape shape{batch.size};
    shape.insert(shape.end(), t0.shape().begin(), t0.shape().end());
    Tensor out = Tensor::empty(shape, t0.dtype());
    const Shape row_strides = contiguous_strides(t0.shape());
    for (size_t i = 0; i < samples.size(); ++i) {
      auto it = samples[i].tensors.find(name);
      if (it == samples[i].tensors.end() || !it->second.defined()) {
        return absl::InvalidArgumentError(
            absl::StrCat("stack_collate: sample ", i, " has no \"", name, "\""));
      }
      const Tensor& t = it->second;
      if (t.shape() != t0.shape() || t.dtype() != t0.dtype()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "stack_collate: \"", name, "\" of sample ", i, " is ", t.ToString(), ", sample 0 has ",
            t0.ToString(), " (use a padding collator for variable sizes)"));
      }
      out.as_strided(t0.shape(), row_strides, static_cast<int64_t>(i) * t0.numel()).copy_(t);
    }
    batch.tensors.emplace(name, out);
  }
  for (size_t i = 1; i < samples.size(); ++i) {
    if (samples[i].tensors.size() != first.tensors.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("stack_collate: sample ", i, " has ", samples[i].tensors.size(),
                       " tensors, sample 0 has ", first.tensors.size()));
    }
  }
  return batch;
}

}  // namespace chorus::data
