#include "core/recipe/eval_batches.h"

#include <algorithm>

#include "core/autograd/node.h"

namespace chorus::recipe {

absl::StatusOr<int64_t> for_each_eval_batch(const DataSetup& data, const std::string& split,
                                            int64_t batch_size, int64_t max_samples,
                                            nn::Module& model, const EvalBatchVisitor& visit) {
  auto source = data.source(split);
  if (!source.ok()) return source.status();
  auto loader = data.loader(*source, /*training=*/false, batch_size);
  if (!loader.ok()) return loader.status();
  autograd::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  int64_t seen = 0;
  absl::Status status;
  while (max_samples <= 0 || seen < max_samples) {
    auto next = (*loader)->next();
    if (!next.ok()) {
      status = next.status();
      break;
    }
    if (!next->has_value()) break;
    const data::LoadedBatch& batch = **next;
    const int64_t take = max_samples > 0 ? std::min(batch.size, max_samples - seen) : batch.size;
    status = visit(batch, take);
    if (!status.ok()) break;
    seen += take;
  }
  model.train(was_training);
  if (!status.ok()) return status;
  return seen;
}

}  // namespace chorus::recipe
