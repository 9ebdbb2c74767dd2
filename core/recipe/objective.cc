#include "core/recipe/objective.h"

#include <unordered_map>

#include "core/align/normalize.h"
#include "core/align/supcon.h"
#include "core/ops/elementwise.h"
#include "core/ops/index.h"
#include "core/ops/loss.h"
#include "core/ops/matmul.h"

namespace chorus::recipe {

namespace {

Tensor index_tensor(const std::vector<int64_t>& positions) {
  return Tensor::from_vector(positions, {static_cast<int64_t>(positions.size())});
}

Tensor select_rows(const Tensor& x, const std::vector<int64_t>& positions) {
  return index_select(x, 0, index_tensor(positions).to(x.device()));
}

std::string pair_name(const ModalityPair& p) { return p.first + "-" + p.second; }

}  // namespace

Tensor directional_info_nce(const Tensor& za, const Tensor& zb, const Tensor& scale, double w_a,
                            double w_b) {
  const Tensor logits =
      mul(matmul(align::l2_normalize(za), align::l2_normalize(zb).t()), scale.reshape({}));
  const Tensor targets = Tensor::arange(0, logits.size(0)).to(logits.device());
  const Tensor a_to_b = cross_entropy(logits, targets);
  const Tensor b_to_a = cross_entropy(logits.t().contiguous(), targets);
  return div(add(mul(a_to_b, w_a), mul(b_to_a, w_b)), w_a + w_b);
}

namespace {}  // namespace

PairRows intersect_rows(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  PairRows out;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] < b[j]) {
      ++i;
    } else if (b[j] < a[i]) {
      ++j;
    } else {
      out.rows.push_back(a[i]);
      out.pos_a.push_back(static_cast<int64_t>(i++));
      out.pos_b.push_back(static_cast<int64_t>(j++));
    }
  }
  return out;
}

StageObjective::StageObjective(AlignModel& model, const StageConfig& stage,
                               const ClassPrompts* prompts, PromptEncoder prompt_encoder,
                               const data::MixedSource* source, const TaskConfig* task)
    : model_(model),
      stage_(stage),
      prompts_(prompts),
      prompt_encoder_(std::move(prompt_encoder)),
      source_(source) {
  for (const auto& p : stage.pairs) {
    if (stage.anchor && p.first != *stage.anchor && p.second != *stage.anchor) continue;
    pairs_.push_back(p);
  }
  if (stage.task) {
    // Cross checks reject a learned-gate task here: only fixed weights can weight a direction.
    CHORUS_CHECK(task != nullptr && task->mode != WeightMode::kLearned, "stage '", stage.name,
                 "': task '", *stage.task, "' must exist and have fixed weights");
    task_weights_ = task->weights;
  }
  CHORUS_CHECK(!pairs_.empty(), "stage '", stage.name, "': no modality pair",
               stage.anchor ? " contains the anchor '" + *stage.anchor + "'" : std::string());
}

absl::StatusOr<Tensor> StageObjective::prompt_embeddings() {
  if (prompts_ == nullptr || !prompt_encoder_.decoder) return Tensor();
  if (!prompt_batch_) {
    std::vector<data::Sample> samples;
    for (const auto& text : prompts_->texts) {
      auto s = prompt_encoder_.decoder->decode_bytes(text, {});
      if (!s.ok()) return s.status();
      samples.push_back(std::move(*s));
    }
    auto batch = prompt_encoder_.decoder->collate(samples);
    if (!batch.ok()) return batch.status();
    prompt_batch_ = std::move(*batch);
  }
  return model_.embed(prompt_encoder_.modality, *prompt_batch_);
}

// Caption positives: rows whose text is the same string share an id.
Tensor StageObjective::caption_ids(const data::LoadedBatch& batch,
                                   const std::vector<int64_t>& rows) const {
  std::unordered_map<std::string, int64_t> ids;
  std::vector<int64_t> out;
  for (int64_t r : rows) {
    std::string text;
    if (source_ != nullptr) {
      const auto& entry = source_->entry(batch.refs[static_cast<size_t>(r)]);
      auto it = entry.values.find(prompt_encoder_.modality);
      if (it != entry.values.end()) text = it->second;
    }
    if (text.empty()) text = "#" + std::to_string(r);  // no caption: its own class
    out.push_back(ids.emplace(text, static_cast<int64_t>(ids.size())).first->second);
  }
  return index_tensor(out);
}

absl::StatusOr<StepLoss> StageObjective::compute(const data::LoadedBatch& batch) {
  // Embed each needed modality once.
  std::map<std::string, Tensor> z;
  for (const auto& p : pairs_) {
    for (const std::string& m : {p.first, p.second}) {
      if (z.count(m) || !batch.has(m)) continue;
      auto e = model_.embed(m, batch.modalities.at(m).batch);
      if (!e.ok()) return e.status();
      z[m] = align::l2_normalize(*e);
    }
  }
  const LossesConfig& losses = stage_.losses;
  Tensor prompt_z, prompt_labels;
  if (losses.semantic && losses.semantic->class_prompts) {
    auto pz = prompt_embeddings();
    if (!pz.ok()) return pz.status();
    if (pz->defined()) {
      prompt_z = align::l2_normalize(*pz);
      prompt_labels = index_tensor(prompts_->classes);
    }
  }

  StepLoss out;
  Tensor total;
  auto accumulate = [&](const Tensor& term, double weight, const std::string& name) {
    out.metrics[name] = term.detach();
    Tensor weighted = weight == 1.0 ? term : mul(term, weight);
    total = total.defined() ? add(total, weighted) : weighted;
  };
  int64_t used = 0;
  for (const auto& p : pairs_) {
    if (!z.count(p.first) || !z.count(p.second)) continue;
    const PairRows pr =
        intersect_rows(batch.modalities.at(p.first).rows, batch.modalities.at(p.second).rows);
    if (pr.rows.size() < 2) continue;  // contrast needs negatives
    used = std::max<int64_t>(used, static_cast<int64_t>(pr.rows.size()));
    const Tensor za = select_rows(z[p.first], pr.pos_a);
    const Tensor zb = select_rows(z[p.second], pr.pos_b);
    const std::string name = pair_name(p);
    if (losses.instance) {
      const auto& c = *losses.instance;
      // With a task, each direction counts by its query modality's weight (a modality the
      // task does not weight counts 1); equal weights keep the symmetric loss as it was.
      auto weight_of = [&](const std::string& m) {
        auto it = task_weights_.find(m);
        return it == task_weights_.end() ? 1.0 : it->second;
      };
      const double wa = weight_of(p.first), wb = weight_of(p.second);
      Tensor l;
      if (wa != wb && wa + wb > 0) {
        l = directional_info_nce(za, zb,
                                 c.learnable_temperature
                                     ? model_.logit_scale().scale()
                                     : Tensor::scalar(1.0 / c.temperature, za.dtype()),
                                 wa, wb);
      } else {
        l = c.learnable_temperature ? align::info_nce(za, zb, model_.logit_scale().scale())
                                    : align::info_nce(za, zb, c.temperature);
      }
      accumulate(l, c.weight, "loss.instance." + name);
    }
    if (losses.cluster) {
      const auto& c = *losses.cluster;
      if (c.method == ClusterMethod::kContrastive) {
        const align::ClusterHead* head = model_.cluster_head();
        CHORUS_CHECK(head != nullptr, "stage '", stage_.name, "': no cluster head");
        auto l = align::contrastive_clustering_loss(za, zb, head->forward(za), head->forward(zb),
                                                    {.instance_temperature = c.tau_i,
                                                     .cluster_temperature = c.tau_c,
                                                     .instance_weight = 1.0,
                                                     .entropy_weight = c.entropy_weight});
        out.metrics["cluster.entropy." + name] = l.entropy.detach();
        accumulate(l.total, c.weight, "loss.cluster." + name);
      } else {
        const align::Prototypes* protos = model_.prototypes();
        CHORUS_CHECK(protos != nullptr, "stage '", stage_.name, "': no prototypes");
        auto l = align::swav_loss(protos->forward(za), protos->forward(zb),
                                  {.epsilon = c.sinkhorn_eps, .iterations = c.sinkhorn_iters});
        accumulate(l.loss, c.weight, "loss.swav." + name);
      }
    }
    if (losses.semantic) {
      const auto& c = *losses.semantic;
      Tensor labels;
      if (c.positives == Positives::kLabels) {
        labels = select_rows(batch.labels, pr.rows);
      } else {
        labels = caption_ids(batch, pr.rows);
      }
      // Rows without a label (-1) cannot be anchors of a labelled loss: keep labelled rows.
      std::vector<int64_t> keep;
      const int64_t* lab = labels.data<int64_t>();
      for (int64_t i = 0; i < labels.numel(); ++i) {
        if (lab[i] >= 0) keep.push_back(i);
      }
      if (keep.size() >= 2) {
        const Tensor kl = select_rows(labels, keep);
        Tensor l =
            align::supcon_with_prompts({select_rows(za, keep), select_rows(zb, keep)}, {kl, kl},
                                       c.positives == Positives::kLabels ? prompt_z : Tensor(),
                                       c.positives == Positives::kLabels ? prompt_labels : Tensor(),
                                       /*prompts_as_anchors=*/false, {.temperature = c.tau});
        accumulate(l, c.weight, "loss.semantic." + name);
      }
    }
  }
  if (!total.defined()) {
    return absl::FailedPreconditionError(
        "stage '" + stage_.name +
        "': no pair of this batch has two rows with both modalities (check the manifest's "
        "modalities against the stage's pairs)");
  }
  out.loss = total;
  out.pairs_used = used;
  return out;
}

}  // namespace chorus::recipe
