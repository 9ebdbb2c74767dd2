#include "core/recipe/evaluator.h"

#include <algorithm>
#include <set>

#include "core/align/cluster_metrics.h"
#include "core/align/kmeans.h"
#include "core/align/linear_probe.h"
#include "core/align/normalize.h"
#include "core/align/retrieval_metrics.h"
#include "core/autograd/node.h"
#include "core/ops/index.h"
#include "core/ops/join.h"
#include "core/ops/matmul.h"
#include "core/ops/reduce.h"
#include "core/recipe/eval_batches.h"
#include "core/recipe/task_objective.h"

namespace chorus::recipe {

namespace {

Tensor rows_of(const Tensor& x, const std::vector<int64_t>& positions) {
  return index_select(x, 0,
                      Tensor::from_vector(positions, {static_cast<int64_t>(positions.size())}));
}

std::string pair_key(const ModalityPair& p) { return p.first + "-" + p.second; }

// Rows of modalities a and b that belong to the same sample, as positions into each.
void matched_rows(const SplitEmbeddings& e, const std::string& a, const std::string& b,
                  std::vector<int64_t>* pa, std::vector<int64_t>* pb) {
  std::map<int64_t, int64_t> where_b;
  const auto& sb = e.sample.at(b);
  for (size_t i = 0; i < sb.size(); ++i) where_b[sb[i]] = static_cast<int64_t>(i);
  const auto& sa = e.sample.at(a);
  for (size_t i = 0; i < sa.size(); ++i) {
    auto it = where_b.find(sa[i]);
    if (it != where_b.end()) {
      pa->push_back(static_cast<int64_t>(i));
      pb->push_back(it->second);
    }
  }
}

nlohmann::json recall_json(const std::array<double, 3>& r) {
  return {{"r1", r[0]}, {"r5", r[1]}, {"r10", r[2]}};
}

// Retrieval over at most this many matched rows: an N×N score matrix, so bounded.
constexpr int64_t kMaxRetrievalRows = 5000;

}  // namespace

double nearest_label_accuracy(const Tensor& queries, const std::vector<int64_t>& query_labels,
                              const Tensor& items, const std::vector<int64_t>& item_labels) {
  autograd::NoGradGuard no_grad;
  const int64_t n = queries.size(0);
  if (n == 0 || items.size(0) == 0) return 0.0;
  const Tensor items_t = items.t().contiguous();
  int64_t correct = 0;
  for (int64_t start = 0; start < n; start += 1024) {
    const int64_t len = std::min<int64_t>(1024, n - start);
    const Tensor scores = matmul(queries.narrow(0, start, len), items_t);  // [len, M]
    const Tensor best = argmax(scores, 1);
    const int64_t* b = best.data<int64_t>();
    for (int64_t i = 0; i < len; ++i) {
      correct +=
          item_labels[static_cast<size_t>(b[i])] == query_labels[static_cast<size_t>(start + i)];
    }
  }
  return static_cast<double>(correct) / static_cast<double>(n);
}

Evaluator::Evaluator(AlignModel& model, const RecipeConfig& config, const DataSetup& data,
                     const ClassPrompts* prompts, PromptEncoder prompt_encoder)
    : model_(model),
      config_(config),
      data_(data),
      prompts_(prompts),
      prompt_encoder_(std::move(prompt_encoder)) {}

absl::StatusOr<SplitEmbeddings> Evaluator::embed_split(const std::string& split,
                                                       int64_t max_samples) {
  SplitEmbeddings out;
  std::map<std::string, std::vector<Tensor>> chunks;
  int64_t offset = 0;
  auto visit = [&](const data::LoadedBatch& b, int64_t take) -> absl::Status {
    const int64_t* labels = b.labels.data<int64_t>();
    for (const auto& [m, mb] : b.modalities) {
      if (!model_.has(m)) continue;
      auto z = model_.embed(m, mb.batch);
      if (!z.ok()) return z.status();
      // mb.rows are the batch lines holding this modality, ascending: keep those before `take`.
      int64_t kept = 0;
      while (kept < static_cast<int64_t>(mb.rows.size()) && mb.rows[kept] < take) ++kept;
      if (kept == 0) continue;
      const Tensor zk = kept == z->size(0) ? *z : z->narrow(0, 0, kept);
      // Metrics (retrieval, k-means, probes) run on the host.
      chunks[m].push_back(align::l2_normalize(zk).to(Device::cpu()));
      for (int64_t i = 0; i < kept; ++i) {
        out.sample[m].push_back(offset + mb.rows[i]);
        out.labels[m].push_back(labels[mb.rows[i]]);
      }
    }
    offset += take;
    return absl::OkStatus();
  };
  auto seen = for_each_eval_batch(data_, split, std::max<int64_t>(64, config_.data.batch_size),
                                  max_samples, model_, visit);
  if (!seen.ok()) return seen.status();
  for (auto& [m, list] : chunks) out.z[m] = concat(list, 0);
  out.samples = offset;
  return out;
}

absl::StatusOr<EvalResult> Evaluator::run(const std::vector<ModalityPair>& trained_pairs,
                                          int points_per_modality, int64_t max_samples,
                                          const std::set<std::string>* tasks) {
  const EvalConfig& ec = config_.eval;
  auto emb = embed_split(ec.split, max_samples > 0 ? max_samples : ec.max_samples);
  if (!emb.ok()) return emb.status();
  autograd::NoGradGuard no_grad;
  EvalResult result;
  nlohmann::json& m = result.metrics;
  m["samples"] = emb->samples;

  // Zero-shot: class prompts through the text encoder.
  if (ec.zero_shot && prompts_ != nullptr && prompt_encoder_.decoder) {
    std::vector<data::Sample> samples;
    for (const auto& text : prompts_->texts) {
      auto s = prompt_encoder_.decoder->decode_bytes(text, {});
      if (!s.ok()) return s.status();
      samples.push_back(std::move(*s));
    }
    auto batch = prompt_encoder_.decoder->collate(samples);
    if (!batch.ok()) return batch.status();
    const bool was_training = model_.is_training();
    model_.eval();
    auto pz = model_.embed(prompt_encoder_.modality, *batch);
    model_.train(was_training);
    if (!pz.ok()) return pz.status();
    const Tensor classes = align::class_embeddings(pz->detach().to(Device::cpu()),
                                                   prompts_->classes, prompts_->num_classes());
    for (const auto& [name, z] : emb->z) {
      if (name == prompt_encoder_.modality) continue;
      auto r = align::zero_shot_accuracy(z, emb->labels[name], classes);
      m["zero_shot"][name] = {{"top1", r.top1}, {"top5", r.top5}, {"count", r.count}};
    }
  }

  // Retrieval on the trained pairs (or those the recipe lists).
  std::vector<ModalityPair> retrieval_pairs =
      ec.retrieval && !ec.retrieval->pairs.empty() ? ec.retrieval->pairs : trained_pairs;
  if (ec.retrieval) {
    for (const auto& p : retrieval_pairs) {
      if (!emb->z.count(p.first) || !emb->z.count(p.second)) continue;
      std::vector<int64_t> pa, pb;
      matched_rows(*emb, p.first, p.second, &pa, &pb);
      if (pa.size() > static_cast<size_t>(kMaxRetrievalRows)) {
        pa.resize(kMaxRetrievalRows);
        pb.resize(kMaxRetrievalRows);
      }
      if (pa.empty()) continue;
      auto r = align::retrieval_recall(rows_of(emb->z[p.first], pa), rows_of(emb->z[p.second], pb));
      m["retrieval"][pair_key(p)] = {{"a_to_b", recall_json(r.a_to_b)},
                                     {"b_to_a", recall_json(r.b_to_a)},
                                     {"count", pa.size()}};
    }
  }

  // Emergent pairs: listed, or every modality pair no stage trained.
  std::vector<ModalityPair> emergent;
  if (ec.emergent && !ec.emergent->pairs.empty()) {
    emergent = ec.emergent->pairs;
  } else if (ec.emergent) {
    std::set<std::pair<std::string, std::string>> trained;
    for (const auto& p : trained_pairs) {
      trained.insert(p);
      trained.insert({p.second, p.first});
    }
    for (const auto& [a, za] : emb->z) {
      for (const auto& [b, zb] : emb->z) {
        if (a < b && !trained.count({a, b})) emergent.push_back({a, b});
      }
    }
  }
  for (const auto& p : emergent) {
    if (!emb->z.count(p.first) || !emb->z.count(p.second)) continue;
    nlohmann::json j;
    j["accuracy"] = nearest_label_accuracy(emb->z[p.first], emb->labels[p.first], emb->z[p.second],
                                           emb->labels[p.second]);
    j["reverse_accuracy"] = nearest_label_accuracy(emb->z[p.second], emb->labels[p.second],
                                                   emb->z[p.first], emb->labels[p.first]);
    std::vector<int64_t> pa, pb;
    matched_rows(*emb, p.first, p.second, &pa, &pb);
    if (pa.size() > static_cast<size_t>(kMaxRetrievalRows)) {
      pa.resize(kMaxRetrievalRows);
      pb.resize(kMaxRetrievalRows);
    }
    if (!pa.empty()) {
      auto r = align::retrieval_recall(rows_of(emb->z[p.first], pa), rows_of(emb->z[p.second], pb));
      j["a_to_b"] = recall_json(r.a_to_b);
      j["b_to_a"] = recall_json(r.b_to_a);
    }
    m["emergent"][pair_key(p)] = j;
  }

  const int64_t num_classes =
      config_.data.num_classes.value_or(prompts_ != nullptr ? prompts_->num_classes() : 0);
  const std::string probe_modality = ec.zero_shot ? ec.zero_shot->modality : std::string("image");

  // Clustering of the headline modality.
  if (ec.clustering && emb->z.count(probe_modality)) {
    const int64_t k = ec.clustering->k.value_or(num_classes);
    const Tensor& z = emb->z[probe_modality];
    if (k >= 1 && z.size(0) >= k) {
      auto km = align::kmeans(z, {.k = k, .seed = config_.run.seed});
      const auto& truth = emb->labels[probe_modality];
      m["clustering"][probe_modality] = {
          {"acc", align::clustering_accuracy(truth, km.assignments)},
          {"nmi", align::normalized_mutual_info(truth, km.assignments)},
          {"ari", align::adjusted_rand_index(truth, km.assignments)},
          {"k", k}};
    }
  }

  // Linear probe: train-split embeddings (capped) against the eval split.
  if (ec.linear_probe && emb->z.count(probe_modality) && num_classes > 0) {
    const int64_t cap = ec.max_samples > 0 ? ec.max_samples : 10000;
    auto train = embed_split(config_.data.train_split, cap);
    if (!train.ok()) return train.status();
    if (train->z.count(probe_modality)) {
      align::LinearProbeOptions o;
      o.epochs = static_cast<int>(ec.linear_probe->epochs);
      o.lr = ec.linear_probe->lr;
      o.seed = config_.run.seed;
      auto r =
          align::linear_probe(train->z[probe_modality], train->labels[probe_modality],
                              emb->z[probe_modality], emb->labels[probe_modality], num_classes, o);
      m["linear_probe"][probe_modality] = {{"accuracy", r.test_accuracy},
                                           {"train_accuracy", r.train_accuracy}};
    }
  }

  // Task heads: the fused classifiers (a second pass over the split: they need tokens).
  for (const auto& [name, head] : model_.task_heads()) {
    if (tasks != nullptr && !tasks->count(name)) continue;
    auto t = evaluate_task(model_, *head, data_, ec.split,
                           max_samples > 0 ? max_samples : ec.max_samples,
                           std::max<int64_t>(64, config_.data.batch_size));
    if (!t.ok()) return t.status();
    m["task"][name] = *t;
  }

  // Embedding sample for the report: the first rows of each modality (file order, so the same
  // rows every time), with their class names.
  for (const auto& [name, z] : emb->z) {
    const int64_t n = std::min<int64_t>(points_per_modality, z.size(0));
    const Tensor head = z.narrow(0, 0, n).contiguous();
    const float* p = head.data<float>();
    for (int64_t i = 0; i < n; ++i) {
      const int64_t label = emb->labels[name][static_cast<size_t>(i)];
      std::string label_name = std::to_string(label);
      if (prompts_ != nullptr && label >= 0 && label < prompts_->num_classes()) {
        label_name = prompts_->class_names[static_cast<size_t>(label)];
      }
      result.embedding_sample.push_back(
          {{"modality", name},
           {"label", label_name},
           {"embedding", std::vector<float>(p + i * z.size(1), p + (i + 1) * z.size(1))}});
    }
  }
  return result;
}

}  // namespace chorus::recipe
