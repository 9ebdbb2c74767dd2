#include "core/recipe/config_build.h"

#include "core/recipe/scalars.h"

namespace chorus::recipe {
namespace {

// Accessors for a validated tree: a key the schema defaults is always there.
const Node& at(const Node& n, const char* key) {
  static const Node null_node;
  const Node* v = n.find(key);
  return v ? *v : null_node;
}
bool has(const Node& n, const char* key) { return n.find(key) != nullptr; }
int64_t i64(const Node& n, const char* key) { return as_int(at(n, key)).value_or(0); }
double f64(const Node& n, const char* key) { return as_float(at(n, key)).value_or(0.0); }
bool flag(const Node& n, const char* key) { return as_bool(at(n, key)).value_or(false); }
std::string str(const Node& n, const char* key) { return at(n, key).value(); }

std::vector<std::string> strings(const Node& list) {
  std::vector<std::string> out;
  for (const Node& item : list.items()) out.push_back(item.value());
  return out;
}

std::vector<ModalityPair> pairs(const Node& list) {
  std::vector<ModalityPair> out;
  for (const Node& p : list.items()) out.emplace_back(p.items()[0].value(), p.items()[1].value());
  return out;
}

CoreConfig core(const Node& n) {
  CoreConfig c;
  c.width = i64(n, "width");
  c.layers = i64(n, "layers");
  c.heads = i64(n, "heads");
  c.ffn = str(n, "ffn") == "dense" ? FfnKind::kDense : FfnKind::kMoe;
  c.ffn_hidden = i64(n, "ffn_hidden");
  c.experts = i64(n, "experts");
  c.top_k = i64(n, "top_k");
  c.shared_experts = i64(n, "shared_experts");
  c.router = str(n, "router") == "sigmoid" ? RouterScore::kSigmoid : RouterScore::kSoftmax;
  c.capacity_factor = f64(n, "capacity_factor");
  c.aux_loss_weight = f64(n, "aux_loss_weight");
  c.z_loss_weight = f64(n, "z_loss_weight");
  c.bias_balancing = flag(n, "bias_balancing");
  c.dropout = f64(n, "dropout");
  return c;
}

LossesConfig losses(const Node& n) {
  LossesConfig l;
  if (const Node* t = n.find("task")) {
    TaskLossConfig c;
    c.weight = f64(*t, "weight");
    c.modality_weight = f64(*t, "modality_weight");
    l.task = c;
  }
  if (const Node* i = n.find("instance")) {
    InstanceLossConfig c;
    c.weight = f64(*i, "weight");
    c.learnable_temperature = str(*i, "temperature") == "learnable";
    if (!c.learnable_temperature) c.temperature = f64(*i, "temperature");
    c.init = f64(*i, "init");
    c.max = f64(*i, "max");
    l.instance = c;
  }
  if (const Node* k = n.find("cluster")) {
    ClusterLossConfig c;
    c.weight = f64(*k, "weight");
    c.method = str(*k, "method") == "swav" ? ClusterMethod::kSwav : ClusterMethod::kContrastive;
    c.clusters = i64(*k, "clusters");
    c.tau_c = f64(*k, "tau_c");
    c.tau_i = f64(*k, "tau_i");
    c.entropy_weight = f64(*k, "entropy_weight");
    c.sinkhorn_eps = f64(*k, "sinkhorn_eps");
    c.sinkhorn_iters = static_cast<int>(i64(*k, "sinkhorn_iters"));
    l.cluster = c;
  }
  if (const Node* s = n.find("semantic")) {
    SemanticLossConfig c;
    c.weight = f64(*s, "weight");
    c.tau = f64(*s, "tau");
    c.positives = str(*s, "positives") == "captions" ? Positives::kCaptions : Positives::kLabels;
    c.class_prompts = flag(*s, "class_prompts");
    l.semantic = c;
  }
  return l;
}

StageConfig stage(const Node& n) {
  StageConfig s;
  s.name = str(n, "name");
  const std::string kind = str(n, "kind");
  s.kind = kind == "cluster"    ? StageKind::kCluster
           : kind == "semantic" ? StageKind::kSemantic
           : kind == "task"     ? StageKind::kTask
                                : StageKind::kInstance;
  if (has(n, "steps")) s.steps = i64(n, "steps");
  if (has(n, "epochs")) s.epochs = f64(n, "epochs");
  const Node& opt = at(n, "optimizer");
  s.optimizer.lr = f64(opt, "lr");
  s.optimizer.weight_decay = f64(opt, "weight_decay");
  s.optimizer.beta1 = as_float(at(opt, "betas").items()[0]).value_or(0.9);
  s.optimizer.beta2 = as_float(at(opt, "betas").items()[1]).value_or(0.999);
  s.optimizer.eps = f64(opt, "eps");
  s.optimizer.grad_clip = f64(opt, "grad_clip");
  const Node& sched = at(n, "schedule");
  const std::string decay = str(sched, "kind");
  s.schedule.kind = decay == "linear"     ? ScheduleKind::kLinear
                    : decay == "constant" ? ScheduleKind::kConstant
                                          : ScheduleKind::kCosine;
  s.schedule.warmup_steps = i64(sched, "warmup_steps");
  s.schedule.min_lr_ratio = f64(sched, "min_lr_ratio");
  s.trainable = strings(at(n, "trainable"));
  s.frozen = strings(at(n, "frozen"));
  s.pairs = pairs(at(n, "pairs"));
  if (has(n, "anchor")) s.anchor = str(n, "anchor");
  if (has(n, "task")) s.task = str(n, "task");
  s.losses = losses(at(n, "losses"));
  s.eval_every = i64(n, "eval_every");
  return s;
}

EvalConfig eval(const Node& n, const DataConfig& data, const std::vector<StageConfig>& stages) {
  EvalConfig e;
  e.split = str(n, "split");
  e.max_samples = i64(n, "max_samples");
  e.stage_max_samples = i64(n, "stage_max_samples");
  if (const Node* z = n.find("zero_shot")) {
    e.zero_shot = EvalConfig::ZeroShot{has(*z, "classes") ? str(*z, "classes") : data.classes,
                                       str(*z, "modality")};
  }
  if (const Node* r = n.find("retrieval")) {
    EvalConfig::Retrieval ret;
    ret.pairs = pairs(at(*r, "pairs"));
    if (ret.pairs.empty()) {
      for (const StageConfig& s : stages) {
        for (const ModalityPair& p : s.pairs) {
          bool seen = false;
          for (const ModalityPair& q : ret.pairs) seen = seen || q == p;
          if (!seen) ret.pairs.push_back(p);
        }
      }
    }
    ret.ks.clear();
    for (const Node& k : at(*r, "ks").items()) ret.ks.push_back(as_int(k).value_or(1));
    e.retrieval = ret;
  }
  if (const Node* m = n.find("emergent")) e.emergent = EvalConfig::Emergent{pairs(at(*m, "pairs"))};
  if (const Node* p = n.find("linear_probe")) {
    e.linear_probe = EvalConfig::LinearProbe{i64(*p, "epochs"), f64(*p, "lr")};
  }
  if (const Node* c = n.find("clustering")) {
    EvalConfig::Clustering cl;
    if (has(*c, "k")) cl.k = i64(*c, "k");
    e.clustering = cl;
  }
  return e;
}

}  // namespace

nlohmann::json to_json(const Node& n) {
  switch (n.kind()) {
    case Node::Kind::kNull:
      return nullptr;
    case Node::Kind::kList: {
      nlohmann::json out = nlohmann::json::array();
      for (const Node& item : n.items()) out.push_back(to_json(item));
      return out;
    }
    case Node::Kind::kMap: {
      nlohmann::json out = nlohmann::json::object();
      for (const MapEntry& e : n.entries()) out[e.key] = to_json(e.value);
      return out;
    }
    case Node::Kind::kScalar:
      break;
  }
  if (auto b = as_bool(n)) return *b;
  if (auto i = as_int(n)) return *i;
  if (auto f = as_float(n)) return *f;
  if (!n.quoted() && (n.value() == "null" || n.value() == "~")) return nullptr;
  return n.value();
}

RecipeConfig build_config(const Node& root) {
  RecipeConfig c;
  const Node& run = at(root, "run");
  c.run.name = str(run, "name");
  c.run.seed = static_cast<uint64_t>(i64(run, "seed"));
  c.run.output_root = str(run, "output_root");
  c.run.device = str(run, "device");
  c.run.threads = static_cast<int>(i64(run, "threads"));
  c.run.log_every = i64(run, "log_every");
  c.plugin_paths = strings(at(root, "plugin_paths"));

  const Node& model = at(root, "model");
  c.model.shared_width = i64(model, "shared_width");
  c.model.core = core(at(model, "core"));

  for (const MapEntry& e : at(root, "modalities").entries()) {
    c.modalities.push_back(
        ModalityConfig{e.key, str(e.value, "plugin"), to_json(at(e.value, "options"))});
    if (c.modalities.back().options.is_null()) {
      c.modalities.back().options = nlohmann::json::object();
    }
  }

  const Node& data = at(root, "data");
  for (const Node& m : at(data, "manifests").items()) {
    c.data.manifests.push_back(ManifestConfig{str(m, "path"), f64(m, "weight")});
  }
  c.data.batch_size = i64(data, "batch_size");
  c.data.workers = static_cast<int>(i64(data, "workers"));
  c.data.prefetch = static_cast<int>(i64(data, "prefetch"));
  c.data.on_bad_sample = str(data, "on_bad_sample") == "fail" ? BadSample::kFail : BadSample::kSkip;
  c.data.train_split = str(data, "train_split");
  c.data.eval_split = str(data, "eval_split");
  if (has(data, "num_classes")) c.data.num_classes = i64(data, "num_classes");
  if (has(data, "classes")) c.data.classes = str(data, "classes");

  for (const Node& s : at(root, "stages").items()) c.stages.push_back(stage(s));

  for (const MapEntry& e : at(root, "tasks").entries()) {
    TaskConfig t;
    t.name = e.key;
    for (const MapEntry& w : at(e.value, "weights").entries()) {
      t.weights[w.key] = as_float(w.value).value_or(0.0);
      t.modalities.push_back(w.key);
    }
    const std::string mode = str(e.value, "mode");
    t.mode = mode == "learned"   ? WeightMode::kLearned
             : mode == "dropout" ? WeightMode::kDropout
                                 : WeightMode::kFixed;
    t.modality_dropout = f64(e.value, "modality_dropout");
    t.fusion = str(e.value, "fusion") == "pooled" ? TaskFusion::kPooled : TaskFusion::kTokens;
    t.head = str(e.value, "head");
    c.tasks.push_back(std::move(t));
  }

  c.eval = eval(at(root, "eval"), c.data, c.stages);
  c.checkpoint.every = i64(at(root, "checkpoint"), "every");
  c.checkpoint.keep_last = static_cast<int>(i64(at(root, "checkpoint"), "keep_last"));

  const std::string resume = str(root, "resume");
  c.resume.mode = resume == "none"     ? ResumeMode::kNone
                  : resume == "latest" ? ResumeMode::kLatest
                                       : ResumeMode::kPath;
  if (c.resume.mode == ResumeMode::kPath) c.resume.path = resume;
  if (has(root, "load_from")) c.resume.load_from = str(root, "load_from");
  return c;
}

const ModalityConfig* RecipeConfig::modality(const std::string& name) const {
  for (const ModalityConfig& m : modalities) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

const StageConfig* RecipeConfig::stage(const std::string& name) const {
  for (const StageConfig& s : stages) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const TaskConfig* RecipeConfig::task(const std::string& name) const {
  for (const TaskConfig& t : tasks) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace chorus::recipe
