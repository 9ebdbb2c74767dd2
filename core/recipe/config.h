// The typed recipe: what the stage runner reads. Built from a validated, resolved tree
// (recipe.h), so every field here holds a checked value; paths are absolute.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nlohmann/json.hpp"

namespace chorus::recipe {

using ModalityPair = std::pair<std::string, std::string>;

struct RunConfig {
  std::string name;
  uint64_t seed = 0;
  bool seed_generated = false;  // true when the recipe gave none (the resolved tree records it)
  std::string output_root;
  std::string device = "cpu";  // "cpu" or "cuda:N"
  int threads = 0;             // 0: all cores
  int64_t log_every = 10;
};

enum class FfnKind { kDense, kMoe };
enum class RouterScore { kSoftmax, kSigmoid };

// The core transformer that fuses a task's modality tokens (task stages; core/recipe/task_head.h).
// Small by default: it runs on every step of a task stage, on CPU too.
struct CoreConfig {
  int64_t width = 128;  // the core's width; tokens are projected from the shared width D to it
                        // when it differs (0: D itself)
  int64_t layers = 1, heads = 4;
  FfnKind ffn = FfnKind::kMoe;
  int64_t ffn_hidden = 0;  // 0: derived from the width
  int64_t experts = 4, top_k = 2, shared_experts = 0;
  RouterScore router = RouterScore::kSoftmax;
  double capacity_factor = 0.0;  // 0: dropless
  double aux_loss_weight = 0.01, z_loss_weight = 0.001;
  bool bias_balancing = false;
  double dropout = 0.0;
};

struct ModelConfig {
  int64_t shared_width = 2048;
  CoreConfig core;
};

struct ModalityConfig {
  std::string name;    // the recipe's key ("image")
  std::string plugin;  // plugin name
  // Options as JSON. Checked against the plugin's schema and completed with its defaults when
  // a plugin catalog was given to the loader (paths absolute), as the SDK's Options expect.
  nlohmann::json options = nlohmann::json::object();
};

enum class BadSample { kSkip, kFail };

struct ManifestConfig {
  std::string path;
  double weight = 1.0;
};

struct DataConfig {
  std::vector<ManifestConfig> manifests;
  int64_t batch_size = 64;
  int workers = 2, prefetch = 2;
  BadSample on_bad_sample = BadSample::kSkip;
  std::string train_split = "train", eval_split = "test";
  std::optional<int64_t> num_classes;
  std::string classes;  // empty: none
};

enum class StageKind { kInstance, kCluster, kSemantic, kTask };
enum class ScheduleKind { kCosine, kLinear, kConstant };
enum class ClusterMethod { kContrastive, kSwav };
enum class Positives { kLabels, kCaptions };

struct OptimizerConfig {
  double lr = 0.0, weight_decay = 0.01;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double grad_clip = 1.0;
};

struct ScheduleConfig {
  ScheduleKind kind = ScheduleKind::kCosine;
  int64_t warmup_steps = 0;
  double min_lr_ratio = 0.0;
};

struct InstanceLossConfig {
  double weight = 1.0;
  bool learnable_temperature = true;
  double temperature = 0.07;   // fixed temperature (learnable_temperature false)
  double init = 2.6592600369;  // log(1/0.07): initial logit scale
  double max = 4.605170186;    // ln 100: logit-scale clamp
};

struct ClusterLossConfig {
  double weight = 1.0;
  ClusterMethod method = ClusterMethod::kContrastive;
  int64_t clusters = 10;
  double tau_c = 1.0, tau_i = 0.5, entropy_weight = 1.0;
  double sinkhorn_eps = 0.05;
  int sinkhorn_iters = 3;
};

struct SemanticLossConfig {
  double weight = 1.0, tau = 0.1;
  Positives positives = Positives::kLabels;
  bool class_prompts = true;
};

// Task stages: weight · CE(fused logits) + modality_weight · Σ_m w_m CE(unimodal logits of m),
// with w_m the task's modality weights as used for the sample (fixed, dropout-rescaled or gated).
struct TaskLossConfig {
  double weight = 1.0;
  double modality_weight = 0.5;
};

struct LossesConfig {
  std::optional<TaskLossConfig> task;
  std::optional<InstanceLossConfig> instance;
  std::optional<ClusterLossConfig> cluster;
  std::optional<SemanticLossConfig> semantic;
};

struct StageConfig {
  std::string name;
  StageKind kind = StageKind::kInstance;
  std::optional<int64_t> steps;  // exactly one of steps and epochs is set
  std::optional<double> epochs;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  std::vector<std::string> trainable, frozen;  // parameter-name globs
  std::vector<ModalityPair> pairs;
  std::optional<std::string> anchor;
  // kTask: the task trained (an entry of RecipeConfig::tasks). Contrastive kinds: optional, its
  // fixed weights then weight the two directions of each pair's instance loss.
  std::optional<std::string> task;
  LossesConfig losses;
  int64_t eval_every = 0;
};

enum class WeightMode { kFixed, kLearned, kDropout };
enum class TaskFusion { kTokens, kPooled };

struct TaskConfig {
  std::string name;
  std::map<std::string, double> weights;  // modality -> weight
  std::vector<std::string> modalities;    // the weights' keys in recipe order
  WeightMode mode = WeightMode::kFixed;
  // kTokens: weighted tokens through the core transformer; kPooled: the weighted sum of pooled
  // embeddings straight into the head (no core).
  TaskFusion fusion = TaskFusion::kTokens;
  double modality_dropout = 0.0;
  std::string head = "classifier";
};

struct EvalConfig {
  std::string split = "test";
  int64_t max_samples = 0;        // 0: all
  int64_t stage_max_samples = 0;  // after stages but the last; 0: max_samples
  struct ZeroShot {
    std::string classes;  // resolved: eval.zero_shot.classes or data.classes
    std::string modality = "image";
  };
  struct Retrieval {
    std::vector<ModalityPair> pairs;  // resolved: every trained pair when the recipe gave none
    std::vector<int64_t> ks{1, 5, 10};
  };
  struct Emergent {
    std::vector<ModalityPair> pairs;
  };
  struct LinearProbe {
    int64_t epochs = 10;
    double lr = 0.1;
  };
  struct Clustering {
    std::optional<int64_t> k;  // absent: data.num_classes
  };
  std::optional<ZeroShot> zero_shot;
  std::optional<Retrieval> retrieval;
  std::optional<Emergent> emergent;
  std::optional<LinearProbe> linear_probe;
  std::optional<Clustering> clustering;
};

struct CheckpointConfig {
  int64_t every = 1000;  // 0: stage ends only
  int keep_last = 3;
};

enum class ResumeMode { kNone, kLatest, kPath };

struct ResumeConfig {
  ResumeMode mode = ResumeMode::kNone;
  std::string path;       // kPath: run or checkpoint directory
  std::string load_from;  // weights only; empty: none
};

struct RecipeConfig {
  RunConfig run;
  std::vector<std::string> plugin_paths;
  ModelConfig model;
  std::vector<ModalityConfig> modalities;  // in recipe order
  DataConfig data;
  std::vector<StageConfig> stages;
  std::vector<TaskConfig> tasks;  // in recipe order
  EvalConfig eval;
  CheckpointConfig checkpoint;
  ResumeConfig resume;

  const ModalityConfig* modality(const std::string& name) const;
  const StageConfig* stage(const std::string& name) const;
  const TaskConfig* task(const std::string& name) const;
};

}  // namespace chorus::recipe
