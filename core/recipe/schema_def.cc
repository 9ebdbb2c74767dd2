// The schema of every engine section, in one place. Docs here are what `chorus recipe schema`
// and docs/recipes.md print: one sentence a researcher can act on.
#include <cmath>
#include <regex>

#include "core/recipe/schema.h"

namespace chorus::recipe {
namespace {

std::string check_device(const Node& n) {
  static const std::regex pattern("cpu|cuda(:[0-9]+)?");
  return std::regex_match(n.value(), pattern)
             ? ""
             : "expected 'cpu' or 'cuda:N', got '" + n.value() + "'";
}

Field modality_pair(std::string name, std::string doc) {
  return List(std::move(name), List("", Str("", "modality name"), "").items(2, 2).shown("[a, b]"),
              std::move(doc));
}

Field optimizer() {
  return Struct("optimizer", "AdamW settings of this stage.",
                {Float("lr", "Peak learning rate.").above(0).req(),
                 Float("weight_decay", "Decoupled weight decay.").at_least(0).def("0.01"),
                 List("betas", Float("", "").range(0, 1), "Adam betas [beta1, beta2].")
                     .items(2, 2)
                     .def("[0.9, 0.999]"),
                 Float("eps", "Adam epsilon.").above(0).def("1e-8"),
                 Float("grad_clip", "Clip the global gradient norm to this; 0 disables.")
                     .at_least(0)
                     .def("1.0")})
      .req();
}

Field schedule() {
  return Struct("schedule", "Learning-rate schedule of this stage (core/optim/schedule.h).",
                {Str("kind", "Decay after warmup.")
                     .one_of({"cosine", "linear", "constant"})
                     .def("cosine"),
                 Int("warmup_steps", "Linear warmup steps.").at_least(0).def("0"),
                 Float("min_lr_ratio", "Floor of the decay, as a fraction of lr.")
                     .range(0, 1)
                     .def("0.0")})
      .def("{}");
}

Field losses() {
  return Struct(
      "losses",
      "Loss terms of this stage and their weights; absent: the stage kind's own loss with "
      "defaults.",
      {Struct("task",
              "Task stages: weight · CE(fused logits) + modality_weight · Σ_m w_m · CE(logits of "
              "modality m alone), w_m the task's weights as used per sample.",
              {Float("weight", "Weight of the fused classifier's cross-entropy.")
                   .at_least(0)
                   .def("1.0"),
               Float("modality_weight",
                     "Weight of the per-modality terms (each modality's tokens alone through the "
                     "core and head), combined with the task's modality weights; 0 disables.")
                   .at_least(0)
                   .def("0.5")}),
       Struct("instance", "Symmetric InfoNCE over every pair (CLIP/ImageBind form).",
              {Float("weight", "Weight of this term.").at_least(0).def("1.0"),
               Float("temperature", "'learnable' (a logit scale per pair) or a fixed temperature.")
                   .above(0)
                   .or_words({"learnable"})
                   .def("learnable"),
               Float("init", "Initial learnable logit scale, log(1/0.07).").def("2.6592600369"),
               Float("max", "Clamp of the learnable logit scale, ln 100.").def("4.605170186")}),
       Struct("cluster", "Cluster-level contrast (Contrastive Clustering, Li et al. 2021).",
              {Float("weight", "Weight of this term.").at_least(0).def("1.0"),
               Str("method",
                   "K-way softmax head contrasted across modalities, or SwAV "
                   "prototypes with Sinkhorn-Knopp.")
                   .one_of({"contrastive", "swav"})
                   .def("contrastive"),
               Int("clusters", "Number of clusters K.").at_least(2).req(),
               Float("tau_c", "Cluster-level temperature.").above(0).def("1.0"),
               Float("tau_i", "Instance-level temperature of the accompanying InfoNCE.")
                   .above(0)
                   .def("0.5"),
               Float("entropy_weight",
                     "Weight of the assignment-entropy term (prevents "
                     "collapse).")
                   .at_least(0)
                   .def("1.0"),
               Float("sinkhorn_eps", "SwAV: Sinkhorn-Knopp epsilon.").above(0).def("0.05"),
               Int("sinkhorn_iters", "SwAV: Sinkhorn-Knopp iterations.").at_least(1).def("3")}),
       Struct("semantic", "Supervised contrastive loss (SupCon).",
              {Float("weight", "Weight of this term.").at_least(0).def("1.0"),
               Float("tau", "SupCon temperature.").above(0).def("0.1"),
               Str("positives", "Where positives come from: class labels or shared captions.")
                   .one_of({"labels", "captions"})
                   .def("labels"),
               Bool("class_prompts", "Add class-prompt text embeddings as extra positives.")
                   .def("true")})});
}

Field stage() {
  return Struct(
      "", "",
      {Str("name", "Unique stage name (checkpoints and metrics are tagged with it).").req(),
       Str("kind",
           "Which stage this is: an alignment stage, or `task` (train a task's fused "
           "classifier; needs `task`).")
           .one_of({"instance", "cluster", "semantic", "task"})
           .req(),
       Str("task",
           "An entry of `tasks`. Required by task stages; on contrastive stages its fixed weights "
           "weight the two directions of each pair's instance loss."),
       Int("steps", "Length in optimizer steps (give steps or epochs).").at_least(1),
       Float("epochs", "Length in passes over the training split (give steps or epochs).").above(0),
       optimizer(), schedule(),
       List("trainable", Str("", ""),
            "Parameter-name globs to train (empty: everything not frozen).")
           .def("[]"),
       List("frozen", Str("", ""), "Parameter-name globs to freeze (wins over trainable).")
           .def("[]"),
       modality_pair("pairs",
                     "Modality pairs aligned in this stage, e.g. [[image, text]] (required "
                     "except in task stages).")
           .items(1, static_cast<size_t>(-1)),
       Str("anchor", "Bind every modality to this one (only pairs containing it are used)."),
       losses(),
       Int("eval_every", "Evaluate every N steps; 0: only at the end of the stage.")
           .at_least(0)
           .def("0")});
}

Field build_schema() {
  return Struct(
      "", "",
      {
          Struct("run", "Naming, seeding and placement of the run.",
                 {Str("name",
                      "Run name: runs/<name>/<timestamp>/. Default: the recipe file's "
                      "name."),
                  Int("seed",
                      "Global seed. Absent: one is generated and recorded in the "
                      "resolved recipe.")
                      .at_least(0),
                  Path("output_root", "Directory holding run directories.").def("runs"),
                  Str("device",
                      "Where to train: cpu, or cuda:N with a CUDA build (model, batches and "
                      "losses on the GPU; evaluation metrics on the host). `chorus train "
                      "--emulate-cuda` checks a recipe's device plumbing without a GPU.")
                      .shown("cpu | cuda:N")
                      .def("cpu")
                      .checked(check_device),
                  Int("threads", "CPU threads; 0: all cores.").at_least(0).def("0"),
                  Int("log_every", "Write a metrics line every N steps.").at_least(1).def("10")})
              .def("{}"),
          List("plugin_paths", Path("", "").exists(),
               "Extra directories or files searched for modality plugins.")
              .def("[]"),
          Struct(
              "model", "The shared embedding space and the core MoE transformer.",
              {Int("shared_width", "Width D of the shared space.").at_least(1).def("2048"),
               Struct(
                   "core",
                   "Core transformer fusing a task's modality tokens (task stages); small by "
                   "default so that it trains on CPUs.",
                   {Int("width",
                        "Core width; tokens are projected from shared_width to it; 0: "
                        "shared_width.")
                        .at_least(0)
                        .def("128"),
                    Int("layers", "Transformer blocks.").at_least(1).def("1"),
                    Int("heads", "Attention heads (must divide the width).").at_least(1).def("4"),
                    Str("ffn", "Feed-forward kind.").one_of({"dense", "moe"}).def("moe"),
                    Int("ffn_hidden", "Hidden width of one FFN or expert; 0: derived.")
                        .at_least(0)
                        .def("0"),
                    Int("experts", "MoE: number of experts.").at_least(1).def("4"),
                    Int("top_k", "MoE: experts per token.").range(1, 8).def("2"),
                    Int("shared_experts", "MoE: always-on shared experts.").at_least(0).def("0"),
                    Str("router", "MoE: router score function.")
                        .one_of({"softmax", "sigmoid"})
                        .def("softmax"),
                    Float("capacity_factor", "MoE: token capacity factor; 0: dropless.")
                        .at_least(0)
                        .def("0"),
                    Float("aux_loss_weight", "MoE: load-balance loss weight.")
                        .at_least(0)
                        .def("0.01"),
                    Float("z_loss_weight", "MoE: router z-loss weight.").at_least(0).def("0.001"),
                    Bool("bias_balancing", "MoE: loss-free bias balancing.").def("false"),
                    Float("dropout", "Dropout on sublayer outputs.").range(0, 0.99).def("0.0")})
                   .def("{}")})
              .def("{}"),
          Map("modalities",
              Struct("", "",
                     {Str("plugin", "Plugin name (see `chorus plugins list`).").req(),
                      Any("options", "The plugin's options, checked against its own schema.")
                          .def("{}")}),
              "Modalities by name (image, text, audio, ...) and the plugin serving each.")
              .req(),
          Struct(
              "data", "Training and evaluation data.",
              {List("manifests",
                    Struct("", "",
                           {Path("path", "JSONL manifest file.").exists().req(),
                            Float("weight", "Sampling weight.").above(0).def("1.0")}),
                    "Manifests read for training.")
                   .items(1, static_cast<size_t>(-1))
                   .req(),
               Int("batch_size", "Samples per optimizer step.").at_least(1).def("64"),
               Int("workers", "Decoder threads.").at_least(0).def("2"),
               Int("prefetch", "Batches decoded ahead.").at_least(0).def("2"),
               Str("on_bad_sample", "A sample that fails to decode: skip it (logged) or stop.")
                   .one_of({"skip", "fail"})
                   .def("skip"),
               Str("train_split", "Split used for training.").def("train"),
               Str("eval_split", "Split used for evaluation.").def("test"),
               Int("num_classes", "Number of classes (labels 0..N-1), when labelled.").at_least(1),
               Path("classes", "JSON file: class names and prompt templates.").exists()})
              .req(),
          List("stages", stage(), "Training stages, run in order.")
              .items(1, static_cast<size_t>(-1))
              .req(),
          Map("tasks",
              Struct("", "",
                     {Map("weights", Float("", "").at_least(0),
                          "Modality -> weight when fusing tokens and weighting loss terms.")
                          .req(),
                      Str("mode",
                          "fixed weights, a learned per-sample gate (GMU), or "
                          "modality dropout.")
                          .one_of({"fixed", "learned", "dropout"})
                          .def("fixed"),
                      Float("modality_dropout",
                            "Probability of dropping a modality (mode "
                            "dropout).")
                          .range(0, 1)
                          .def("0.0"),
                      Str("fusion",
                          "How task stages fuse: weighted tokens through the core transformer, "
                          "or the weighted sum of pooled embeddings straight into the head.")
                          .one_of({"tokens", "pooled"})
                          .def("tokens"),
                      Str("head", "Task head: a linear classifier over data.num_classes.")
                          .one_of({"classifier"})
                          .def("classifier")}),
              "Tasks by name (e.g. vqa) and their per-modality weights.")
              .def("{}"),
          Struct(
              "eval", "Evaluation after each stage and at the end.",
              {Str("split", "Split evaluated.").def("test"),
               Int("max_samples", "Evaluate on at most this many samples; 0: all.")
                   .at_least(0)
                   .def("0"),
               Int("stage_max_samples",
                   "Samples for the evaluations after each stage but the last (a quicker look "
                   "during training); 0: max_samples.")
                   .at_least(0)
                   .def("0"),
               Struct("zero_shot", "Zero-shot classification with class prompts.",
                      {Path("classes", "Class names and prompts; default: data.classes.").exists(),
                       Str("modality", "Modality classified through text prompts.").def("image")}),
               Struct("retrieval", "Retrieval R@k in both directions.",
                      {modality_pair("pairs", "Pairs evaluated; default: every trained pair.")
                           .def("[]"),
                       List("ks", Int("", "").at_least(1), "Recall cut-offs.").def("[1, 5, 10]")}),
               Struct("emergent", "Zero-shot across pairs never trained together.",
                      {modality_pair("pairs", "e.g. [[audio, image]].").req()}),
               Struct("linear_probe", "Logistic regression on frozen embeddings.",
                      {Int("epochs", "Training epochs.").at_least(1).def("10"),
                       Float("lr", "Learning rate.").above(0).def("0.1")}),
               Struct("clustering", "k-means on embeddings: ACC (Hungarian), NMI, ARI.",
                      {Int("k", "Clusters; default: data.num_classes.").at_least(2)})})
              .def("{}"),
          Struct("checkpoint", "Checkpointing (stage boundaries are always checkpointed).",
                 {Int("every", "Checkpoint every N steps; 0: stage ends only.")
                      .at_least(0)
                      .def("1000"),
                  Int("keep_last", "Checkpoints kept.").at_least(1).def("3")})
              .def("{}"),
          Path("resume",
               "Resume a run: 'latest' (newest run of this name), a run or "
               "checkpoint directory, or 'none'.")
              .or_words({"latest", "none"})
              .def("none"),
          Path("load_from",
               "Initialise weights from this checkpoint (no optimizer state, step "
               "0).")
              .exists(),
      });
}

}  // namespace

const Field& engine_schema() {
  static const Field schema = build_schema();
  return schema;
}

}  // namespace chorus::recipe
