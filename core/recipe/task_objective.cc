#include "core/recipe/task_objective.h"

#include <algorithm>

#include "core/autograd/node.h"
#include "core/ops/elementwise.h"
#include "core/ops/index.h"
#include "core/ops/loss.h"
#include "core/ops/reduce.h"
#include "core/recipe/eval_batches.h"

namespace chorus::recipe {

namespace {

Tensor rows_of(const Tensor& x, const std::vector<int64_t>& positions) {
  if (!x.defined()) return x;
  return index_select(
      x, 0,
      Tensor::from_vector(positions, {static_cast<int64_t>(positions.size())}).to(x.device()));
}

// Number of rows whose argmax matches the label.
int64_t correct(const Tensor& logits, const Tensor& labels) {
  const Tensor best = argmax(logits.detach(), 1).to(Device::cpu());
  const int64_t* b = best.data<int64_t>();
  const Tensor lc = labels.to(Device::cpu()).contiguous();
  const int64_t* l = lc.data<int64_t>();
  int64_t n = 0;
  for (int64_t i = 0; i < labels.numel(); ++i) n += b[i] == l[i];
  return n;
}

// The same as a fraction of the rows, as a 0-dim f64 tensor on the logits' device: a training
// step keeps it there until a logged step reads it (no wait for the device every step).
Tensor correct_fraction(const Tensor& logits, const Tensor& labels) {
  const Tensor hits = eq(argmax(logits.detach(), 1), labels.to(logits.device()));
  return div(sum(hits).to(DType::kF64), static_cast<double>(labels.numel()));
}

}  // namespace

absl::StatusOr<TaskInputs> task_inputs(const AlignModel& model, const TaskHead& head,
                                       const data::LoadedBatch& batch) {
  const auto& mods = head.modalities();
  // Rows with every modality and a label: walk each modality's ascending row list.
  std::vector<int64_t> rows;
  const Tensor labels = batch.labels.contiguous();
  const int64_t* lab = labels.data<int64_t>();
  for (int64_t r = 0; r < batch.size; ++r) {
    bool ok = lab[r] >= 0;
    for (const auto& m : mods) {
      auto it = batch.modalities.find(m);
      ok = ok && it != batch.modalities.end() &&
           std::binary_search(it->second.rows.begin(), it->second.rows.end(), r);
    }
    if (ok) rows.push_back(r);
  }
  TaskInputs out;
  out.rows = rows;
  if (rows.empty()) return out;
  out.labels = rows_of(labels, rows).to(model.device());
  for (const auto& m : mods) {
    const data::ModalityBatch& mb = batch.modalities.at(m);
    auto enc = model.encode(m, mb.batch);
    if (!enc.ok()) return enc.status();
    std::vector<int64_t> pos;
    for (int64_t r : rows) {
      pos.push_back(std::lower_bound(mb.rows.begin(), mb.rows.end(), r) - mb.rows.begin());
    }
    const bool all = static_cast<int64_t>(pos.size()) == enc->pooled.size(0);
    // f32 masks: the weighting converts them anyway, and index_select needs no u8 kernel.
    const Tensor mask = enc->mask.defined() ? enc->mask.to(DType::kF32) : Tensor();
    out.inputs.push_back({all ? enc->tokens : rows_of(enc->tokens, pos),
                          all ? mask : rows_of(mask, pos),
                          all ? enc->pooled : rows_of(enc->pooled, pos)});
  }
  return out;
}

Tensor per_sample_cross_entropy(const Tensor& logits, const Tensor& labels) {
  CrossEntropyOptions o;
  o.reduction = Reduction::kNone;
  return cross_entropy(logits, labels, o);
}

TaskLossTerms task_loss(const TaskForward& f, const Tensor& labels, const TaskLossConfig& config) {
  TaskLossTerms t;
  t.fused = cross_entropy(f.logits, labels);
  t.total = config.weight == 1.0 ? t.fused : mul(t.fused, config.weight);
  if (config.modality_weight > 0) {
    CHORUS_CHECK(f.unimodal.size() == f.weighted.mean_weights.size(),
                 "task loss: the forward has no unimodal logits");
    std::vector<Tensor> terms;
    for (const Tensor& logits : f.unimodal)
      terms.push_back(per_sample_cross_entropy(logits, labels));
    t.modalities = align::combine_modality_losses(terms, f.weighted.weights);
    t.total = add(t.total, mul(t.modalities, config.modality_weight));
  }
  if (f.aux_loss.defined()) t.total = add(t.total, f.aux_loss);
  return t;
}

TaskObjective::TaskObjective(AlignModel& model, const StageConfig& stage, uint64_t seed)
    : model_(model), stage_(stage), seed_(seed) {
  CHORUS_CHECK(stage.task.has_value(), "stage '", stage.name, "': a task stage names a task");
  head_ = model.task_head(*stage.task);
  CHORUS_CHECK(head_ != nullptr, "stage '", stage.name, "': the model has no head for task '",
               *stage.task, "'");
  loss_ = stage.losses.task.value_or(TaskLossConfig{});
}

absl::StatusOr<StepLoss> TaskObjective::compute(const data::LoadedBatch& batch) {
  auto in = task_inputs(model_, *head_, batch);
  if (!in.ok()) return in.status();
  const std::string& name = head_->task().name;
  if (in->rows.empty()) {
    return absl::FailedPreconditionError("task stage '" + stage_.name +
                                         "': no row of this batch carries a label and every "
                                         "modality of task '" +
                                         name + "' (check the manifest against tasks." + name +
                                         ".weights)");
  }
  Generator gen(data::mix_seed(data::mix_seed(seed_, static_cast<uint64_t>(batch.epoch)),
                               static_cast<uint64_t>(batch.index)));
  const bool per_modality = loss_.modality_weight > 0;
  TaskForward f = head_->forward(in->inputs, gen, per_modality);

  StepLoss out;
  const TaskLossTerms terms = task_loss(f, in->labels, loss_);
  out.metrics["loss.task." + name] = terms.fused.detach();
  if (terms.modalities.defined()) {
    out.metrics["loss.task." + name + ".modalities"] = terms.modalities.detach();
  }
  if (f.aux_loss.defined()) out.metrics["loss.task." + name + ".aux"] = f.aux_loss.detach();
  const auto& mods = head_->modalities();
  for (size_t i = 0; i < mods.size(); ++i) {
    out.metrics["weights." + name + "." + mods[i]] =
        Tensor::scalar(f.weighted.mean_weights[i], DType::kF64);
  }
  out.metrics["accuracy.task." + name] = correct_fraction(f.logits, in->labels);
  out.loss = terms.total;
  out.pairs_used = static_cast<int64_t>(in->rows.size());
  return out;
}

absl::StatusOr<nlohmann::json> evaluate_task(AlignModel& model, const TaskHead& head,
                                             const DataSetup& data, const std::string& split,
                                             int64_t max_samples, int64_t batch_size) {
  const auto& mods = head.modalities();
  int64_t count = 0, right = 0;
  std::vector<int64_t> right_m(mods.size(), 0);
  std::vector<double> weight_sum(mods.size(), 0.0);
  Generator gen(0);  // eval mode draws nothing; the forward still takes a stream
  auto visit = [&](const data::LoadedBatch& b, int64_t take) -> absl::Status {
    auto in = task_inputs(model, head, b);
    if (!in.ok()) return in.status();
    // Only the first `take` lines of the last batch count.
    std::vector<int64_t> keep;
    for (size_t i = 0; i < in->rows.size(); ++i) {
      if (in->rows[i] < take) keep.push_back(static_cast<int64_t>(i));
    }
    if (keep.empty()) return absl::OkStatus();
    if (keep.size() != in->rows.size()) {
      for (auto& x : in->inputs)
        x = {rows_of(x.tokens, keep), rows_of(x.mask, keep), rows_of(x.pooled, keep)};
      in->labels = rows_of(in->labels, keep);
    }
    const int64_t n = static_cast<int64_t>(keep.size());
    TaskForward f = head.forward(in->inputs, gen, /*unimodal=*/true);
    right += correct(f.logits, in->labels);
    for (size_t m = 0; m < mods.size(); ++m) {
      right_m[m] += correct(f.unimodal[m], in->labels);
      weight_sum[m] += f.weighted.mean_weights[m] * static_cast<double>(n);
    }
    count += n;
    return absl::OkStatus();
  };
  auto seen = for_each_eval_batch(data, split, batch_size, max_samples, model, visit);
  if (!seen.ok()) return seen.status();
  nlohmann::json j = {{"count", count}};
  const double denom = static_cast<double>(std::max<int64_t>(1, count));
  j["accuracy"] = static_cast<double>(right) / denom;
  for (size_t m = 0; m < mods.size(); ++m) {
    j["weights"][mods[m]] = weight_sum[m] / denom;
    j["unimodal"][mods[m]] = static_cast<double>(right_m[m]) / denom;
  }
  return j;
}

}  // namespace chorus::recipe
