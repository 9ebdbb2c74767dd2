#include "core/recipe/stage_runner.h"

#include <fnmatch.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/ops/kernel_dispatch.h"
#include "core/optim/adamw.h"
#include "core/optim/clip.h"
#include "core/optim/schedule.h"
#include "core/recipe/components.h"
#include "core/recipe/evaluator.h"
#include "core/recipe/progress.h"
#include "core/recipe/report_html.h"
#include "core/recipe/run_directory.h"
#include "core/recipe/task_objective.h"
#include "core/tensor/allocator.h"
#include "core/tensor/op_profile.h"
#include "core/tensor/parallel.h"
#include "core/train/checkpoint.h"

namespace chorus::recipe {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

absl::Status context(const absl::Status& s, const std::string& where) {
  return absl::Status(s.code(), where + ": " + std::string(s.message()));
}

optim::Schedule schedule_of(const StageConfig& stage, int64_t steps) {
  optim::Schedule s;
  s.decay = stage.schedule.kind == ScheduleKind::kCosine   ? optim::Decay::kCosine
            : stage.schedule.kind == ScheduleKind::kLinear ? optim::Decay::kLinear
                                                           : optim::Decay::kConstant;
  s.warmup_steps = std::min(stage.schedule.warmup_steps, steps);
  s.total_steps = steps;
  s.min_lr_ratio = stage.schedule.min_lr_ratio;
  return s;
}

// Marks the stage's parameters trainable (and every other one frozen), returning them split
// into a weight-decay group (matrices) and a no-decay group (vectors, scalars: norms, biases,
// the logit scale), as is usual for transformers.
std::vector<optim::ParamGroup<optim::AdamWOptions>> stage_parameters(nn::Module& model,
                                                                     const StageConfig& stage,
                                                                     int64_t* count) {
  nn::NamedTensors decay, no_decay;
  *count = 0;
  for (const auto& [name, p] : model.named_parameters()) {
    const bool selected = (stage.trainable.empty() || matches_any(name, stage.trainable)) &&
                          !matches_any(name, stage.frozen);
    p.set_requires_grad(selected);
    if (!selected) continue;
    *count += p.numel();
    (p.dim() >= 2 ? decay : no_decay).push_back({name, p});
  }
  optim::AdamWOptions o;
  o.lr = stage.optimizer.lr;
  o.beta1 = stage.optimizer.beta1;
  o.beta2 = stage.optimizer.beta2;
  o.eps = stage.optimizer.eps;
  o.weight_decay = stage.optimizer.weight_decay;
  optim::AdamWOptions o_nd = o;
  o_nd.weight_decay = 0.0;
  std::vector<optim::ParamGroup<optim::AdamWOptions>> groups;
  if (!decay.empty()) groups.push_back({decay, o});
  if (!no_decay.empty()) groups.push_back({no_decay, o_nd});
  return groups;
}

absl::StatusOr<nlohmann::json> read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded()) return absl::DataLossError(path + ": not JSON");
  return j;
}

// Drops metrics.jsonl rows after `last_step`: a killed run may have logged steps its last
// checkpoint does not hold, and the resumed run logs them again.
absl::Status trim_metrics(const std::string& path, int64_t last_step) {
  std::ifstream in(path);
  if (!in) return absl::OkStatus();
  std::ostringstream kept;
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("step") && j["step"].is_number_integer() &&
        j["step"].get<int64_t>() <= last_step) {
      kept << line << "\n";
    }
  }
  in.close();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << kept.str();
    if (!out) return absl::InternalError(tmp + ": write failed");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return absl::InternalError(path + ": " + ec.message());
  return absl::OkStatus();
}

// Flattens {"zero_shot": {"image": {"top1": 0.8}}} into "zero_shot.image.top1 0.800" pairs.
void flatten(const nlohmann::json& j, const std::string& prefix, std::string* out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) flatten(v, prefix.empty() ? k : prefix + "." + k, out);
  } else if (j.is_number_float()) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.4f", j.get<double>());
    *out += "  " + prefix + " " + buf + "\n";
  }
}

// The stage-start line of a task stage: what the ablation's runs differ in.
std::string describe_task(const TaskHead& head) {
  const TaskConfig& t = head.task();
  std::string weights;
  for (const auto& m : t.modalities) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%s%s %.3g", weights.empty() ? "" : ", ", m.c_str(),
                  t.weights.at(m));
    weights += buf;
  }
  const char* mode = t.mode == WeightMode::kLearned   ? "learned (GMU gate, per sample)"
                     : t.mode == WeightMode::kDropout ? "dropout"
                                                      : "fixed";
  std::string line = "task '" + t.name + "': mode " + mode + ", base weights {" + weights +
                     "}, fusion " + (t.fusion == TaskFusion::kPooled ? "pooled" : "tokens");
  if (t.mode != WeightMode::kFixed && t.modality_dropout > 0) {
    line += ", modality dropout " + std::to_string(t.modality_dropout);
  }
  return line + ", " + std::to_string(head.num_classes()) + " classes";
}

struct Run {
  const RecipeConfig& config;
  const Recipe& recipe;
  const TrainOptions& options;
  Components& parts;
  RunDirectory dir;
  RunLog log;
  nlohmann::json eval = nlohmann::json::object();
};

}  // namespace

bool matches_any(const std::string& name, const std::vector<std::string>& globs) {
  for (const auto& g : globs) {
    if (fnmatch(g.c_str(), name.c_str(), 0) == 0) return true;
  }
  return false;
}

std::vector<int64_t> stage_lengths(const RecipeConfig& config, int64_t samples_per_epoch) {
  std::vector<int64_t> out;
  for (const auto& s : config.stages) {
    if (s.steps) {
      out.push_back(*s.steps);
    } else {
      const double per_epoch = static_cast<double>(samples_per_epoch) /
                               static_cast<double>(std::max<int64_t>(1, config.data.batch_size));
      out.push_back(std::max<int64_t>(
          1, static_cast<int64_t>(std::ceil(s.epochs.value_or(1.0) * per_epoch))));
    }
  }
  return out;
}

absl::StatusOr<TrainResult> train_recipe(const Recipe& recipe, const TrainOptions& options) {
  const RecipeConfig& config = recipe.config;
  const auto started = Clock::now();
  auto device = Device::Parse(config.run.device);
  if (!device.ok()) return context(device.status(), "run.device");
  if (device->is_cuda() && !has_allocator(Device::Kind::kCuda)) {
    return absl::FailedPreconditionError(
        "run.device " + config.run.device +
        ": this chorus has no CUDA backend (build it with the cuda preset, docs/gpu.md), or "
        "set run.device=cpu; `chorus train --emulate-cuda` checks a recipe's device plumbing "
        "without a GPU");
  }
  if (config.run.threads > 0) set_num_threads(config.run.threads);

  auto parts_or = build_components(config);
  if (!parts_or.ok()) return parts_or.status();
  Components& parts = **parts_or;
  AlignModel& model = *parts.model;
  // Parameters move before any weights are loaded: loading copies into them across devices.
  try {
    model.place_on(*device);
  } catch (const Error& e) {
    return absl::ResourceExhaustedError("run.device " + device->ToString() +
                                        ": cannot place the model: " + e.what());
  }

  // Run directory and what to resume from.
  std::optional<train::LoadedCheckpoint> ckpt;
  std::optional<RunDirectory> dir;
  std::vector<std::string> warnings;
  if (config.resume.mode == ResumeMode::kLatest) {
    auto latest = RunDirectory::Latest(config.run.output_root, config.run.name);
    if (latest.ok() && fs::exists(latest->checkpoints())) {
      auto loaded = train::load_latest_checkpoint(latest->checkpoints(), &warnings);
      if (loaded.ok()) {
        dir = *latest;
        ckpt = std::move(*loaded);
      } else if (!absl::IsNotFound(loaded.status())) {
        return loaded.status();
      }
    }
  } else if (config.resume.mode == ResumeMode::kPath) {
    const fs::path p(config.resume.path);
    const bool is_checkpoint = fs::exists(p / "manifest.json");
    const fs::path run_path = is_checkpoint ? p.parent_path().parent_path() : p;
    auto opened = RunDirectory::Open(run_path.string());
    if (!opened.ok()) return context(opened.status(), "resume");
    auto loaded = is_checkpoint ? train::load_checkpoint(p.string())
                                : train::load_latest_checkpoint(opened->checkpoints(), &warnings);
    if (!loaded.ok()) return context(loaded.status(), "resume from " + p.string());
    dir = *opened;
    ckpt = std::move(*loaded);
  }
  if (!dir) {
    auto created = RunDirectory::Create(config.run.output_root, config.run.name);
    if (!created.ok()) return created.status();
    dir = *created;
  }
  Run run{config, recipe, options, parts, *dir, {}, nlohmann::json::object()};
  if (absl::Status s = run.log.Open(run.dir.file("log.txt")); !s.ok()) return s;
  run.log.set_echo(!options.quiet);
  for (const auto& w : warnings) run.log.Line("warning: " + w);

  if (!ckpt) {
    if (absl::Status s = run.dir.WriteText("recipe.resolved.yaml", recipe.resolved_yaml());
        !s.ok()) {
      return s;
    }
    if (absl::Status s = run.dir.WriteCommand(options.argv, parts.plugin_versions()); !s.ok()) {
      return s;
    }
    if (!config.resume.load_from.empty()) {
      const fs::path from(config.resume.load_from);
      std::map<std::string, Tensor> weights;
      if (fs::is_directory(from)) {
        auto loaded = train::load_checkpoint(from.string());
        if (!loaded.ok()) return context(loaded.status(), "resume.load_from");
        weights = std::move(loaded->model);
      } else {
        return absl::InvalidArgumentError("resume.load_from " + from.string() +
                                          ": expected a checkpoint directory");
      }
      if (absl::Status s = model.load_state_dict(weights, /*strict=*/false); !s.ok()) {
        return context(s, "resume.load_from");
      }
      run.log.Line("weights loaded from " + from.string());
    }
    run.log.Line("run directory: " + run.dir.path());
  } else {
    if (absl::Status s = model.load_state_dict(ckpt->model); !s.ok()) {
      return context(s, "resume from " + ckpt->dir);
    }
    run.log.Line("resuming " + run.dir.path() + " from " + ckpt->dir + " (step " +
                 std::to_string(ckpt->state.step) + ", stage '" + ckpt->state.stage + "')");
    if (auto old = read_json_file(run.dir.file("eval.json")); old.ok()) run.eval = *old;
    if (absl::Status s = trim_metrics(run.dir.file("metrics.jsonl"), ckpt->state.step); !s.ok()) {
      return s;
    }
  }

  // Data.
  auto source = parts.data->source(config.data.train_split);
  if (!source.ok()) return context(source.status(), "training data");
  std::optional<data::Cursor> cursor;
  if (ckpt && !ckpt->state.data_cursor.empty()) {
    auto c = data::Cursor::from_json(ckpt->state.data_cursor);
    if (!c.ok()) return context(c.status(), "resume: data cursor");
    cursor = *c;
  }
  auto loader_or = parts.data->loader(*source, /*training=*/true, config.data.batch_size, cursor);
  if (!loader_or.ok()) return loader_or.status();
  data::Loader& loader = **loader_or;

  const std::vector<int64_t> lengths = stage_lengths(config, loader.samples_per_epoch());
  int64_t global = ckpt ? ckpt->state.step : 0;
  const int ckpt_stage = ckpt && ckpt->state.extra.contains("stage_index")
                             ? ckpt->state.extra["stage_index"].get<int>()
                             : -1;
  Evaluator evaluator(model, config, *parts.data, parts.prompts_or_null(), parts.prompt_encoder);
  const std::vector<ModalityPair> trained = parts.trained_pairs(config);
  Progress progress(options.quiet ? std::optional<bool>(false) : std::nullopt,
                    std::max<int64_t>(1, config.run.log_every));
  model.train();

  int64_t start = 0;
  for (size_t si = 0; si < config.stages.size(); ++si) {
    const StageConfig& stage = config.stages[si];
    const int64_t steps = lengths[si];
    const int64_t end = start + steps;
    if (global >= end) {
      start = end;
      continue;
    }
    // Contrastive stages and task stages share the loop; only the step's loss differs.
    std::optional<StageObjective> contrastive;
    std::optional<TaskObjective> task_objective;
    if (stage.kind == StageKind::kTask) {
      task_objective.emplace(model, stage, data::mix_seed(config.run.seed, si + 1));
    } else {
      contrastive.emplace(model, stage, parts.prompts_or_null(), parts.prompt_encoder,
                          source->get(), stage.task ? config.task(*stage.task) : nullptr);
    }
    int64_t trainable = 0;
    optim::AdamW optimizer(stage_parameters(model, stage, &trainable));
    // The scheduler takes its base rates from the optimizer as configured, so it is made before
    // a checkpoint's state (which holds scheduled rates) is loaded into the optimizer.
    optim::LrScheduler scheduler(optimizer, schedule_of(stage, steps));
    if (ckpt && ckpt_stage == static_cast<int>(si) && global > start) {
      if (absl::Status s = optimizer.load_state_dict(ckpt->optimizer); !s.ok()) {
        return context(s, "resume: optimizer of stage '" + stage.name + "'");
      }
    }
    std::vector<Tensor> params;
    for (const auto& [n, p] : model.named_parameters()) {
      if (p.requires_grad()) params.push_back(p);
    }
    run.log.Line("stage " + std::to_string(si + 1) + "/" + std::to_string(config.stages.size()) +
                 " '" + stage.name + "': " + std::to_string(steps) + " steps, " +
                 std::to_string(trainable) + " trainable parameters");
    if (task_objective) run.log.Line(describe_task(task_objective->head()));
    progress.StartStage(stage.name, steps, global - start);
    double last_wait = loader.stats().wait_seconds;
    profile::reset();  // CHORUS_OP_PROFILE: this stage's steps only
    const auto stage_started = Clock::now();
    while (global < end) {
      const int64_t local = global - start;
      const auto t0 = Clock::now();
      scheduler.apply(local);
      auto next = loader.next();
      if (!next.ok()) return context(next.status(), "stage '" + stage.name + "'");
      if (!next->has_value()) return absl::InternalError("training loader ended");
      const data::LoadedBatch& batch = **next;
      const bool log_row =
          (global + 1) % std::max<int64_t>(1, config.run.log_every) == 0 || global + 1 == end;
      double norm = 0;
      StepLoss step_loss;
      try {
        auto l = task_objective ? task_objective->compute(batch) : contrastive->compute(batch);
        if (!l.ok()) {
          return context(l.status(),
                         "stage '" + stage.name + "' step " + std::to_string(global + 1));
        }
        step_loss = std::move(*l);
        step_loss.loss.backward();
        // The norm is a read of the device: taken when clipping needs it or the step is logged.
        if (stage.optimizer.grad_clip > 0) {
          norm = optim::clip_grad_norm(params, stage.optimizer.grad_clip);
        } else if (log_row) {
          norm = optim::grad_norm(params);
        }
        optimizer.step();
        optimizer.zero_grad();
        if (task_objective) task_objective->head().after_step();
      } catch (const Error& e) {
        return absl::InternalError("stage '" + stage.name + "' step " + std::to_string(global + 1) +
                                   ": " + e.what());
      }
      ++global;
      const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
      const double loss = step_loss.loss.item();
      if (!std::isfinite(loss)) {
        return absl::InternalError("stage '" + stage.name + "' step " + std::to_string(global) +
                                   ": the loss is " + std::to_string(loss) +
                                   " (try a lower learning rate; on a GPU, a label outside "
                                   "the classes also gives NaN)");
      }
      const double sps = secs > 0 ? static_cast<double>(batch.size) / secs : 0.0;
      if (log_row) {
        const double wait = loader.stats().wait_seconds;
        nlohmann::json row = {{"step", global},
                              {"stage", stage.name},
                              {"stage_step", global - start},
                              {"loss", loss},
                              {"lr", optimizer.lr(0)},
                              {"logit_scale", model.logit_scale().value()},
                              {"grad_norm", norm},
                              {"samples_per_s", sps},
                              {"loader_wait_s", wait - last_wait}};
        last_wait = wait;
        for (const auto& [k, v] : step_loss.metrics) row[k] = v.item();
        std::ofstream(run.dir.file("metrics.jsonl"), std::ios::app) << row.dump() << "\n";
      }
      if (!options.quiet) {
        const std::string line = progress.Update(global - start, loss, sps);
        if (!line.empty()) run.log.FileOnly(line);
      }
      const bool due =
          (config.checkpoint.every > 0 && global % config.checkpoint.every == 0) || global == end;
      if (due) {
        train::CheckpointState st;
        st.step = global;
        st.stage = stage.name;
        st.data_cursor = loader.cursor().to_json();
        st.config = recipe.resolved_yaml();
        st.extra = {{"stage_index", static_cast<int>(si)}, {"stage_step", global - start}};
        auto saved =
            train::save_checkpoint(run.dir.checkpoints(), model.state_dict(),
                                   optimizer.state_dict(), st, config.checkpoint.keep_last);
        if (!saved.ok()) return saved.status();
      }
      if (options.kill_after_step > 0 && global == options.kill_after_step) {
        progress.Finish();
        std::raise(SIGKILL);
      }
    }
    progress.Finish();
    if (profile::enabled()) {
      const std::string table =
          profile::report(std::chrono::duration<double>(Clock::now() - stage_started).count());
      std::ofstream(run.dir.file("op_profile.txt"), std::ios::app)
          << "stage '" << stage.name << "'\n"
          << table << "\n";
      run.log.Line("stage '" + stage.name + "': " + table.substr(0, table.find('\n')) +
                   " (op_profile.txt)");
    }
    // Evaluation at the stage's end.
    const bool last = si + 1 == config.stages.size();
    std::set<std::string> tasks_trained;
    for (size_t j = 0; j <= si; ++j) {
      if (config.stages[j].kind == StageKind::kTask) tasks_trained.insert(*config.stages[j].task);
    }
    auto result = evaluator.run(trained, /*points_per_modality=*/200,
                                last ? 0 : config.eval.stage_max_samples, &tasks_trained);
    if (!result.ok())
      return context(result.status(), "evaluation after stage '" + stage.name + "'");
    run.eval["stages"][stage.name] = result->metrics;
    std::string summary;
    flatten(result->metrics, "", &summary);
    run.log.Line("evaluation after stage '" + stage.name + "':\n" + summary);
    if (si + 1 == config.stages.size()) {
      run.eval["final"] = result->metrics;
      std::string lines;
      for (const auto& row : result->embedding_sample) lines += row.dump() + "\n";
      if (absl::Status s = run.dir.WriteText("embeddings.jsonl", lines); !s.ok()) return s;
    }
    if (absl::Status s = run.dir.WriteText("eval.json", run.eval.dump(2) + "\n"); !s.ok()) {
      return s;
    }
    start = end;
  }

  auto report = load_report_data(run.dir.path());
  if (report.ok()) {
    report->title = "Chorus run " + config.run.name;
    report->info.push_back({"run directory", run.dir.path()});
    report->info.push_back({"recipe", recipe.file});
    if (absl::Status s = write_report_html(*report, run.dir.file("report.html")); !s.ok()) {
      run.log.Line("warning: report: " + std::string(s.message()));
    }
  } else {
    run.log.Line("warning: report: " + std::string(report.status().message()));
  }
  const auto stats = loader.stats();
  run.log.Line("data: " + std::to_string(stats.samples) + " samples, " +
               std::to_string(stats.bad_samples) + " skipped as bad, consumer waited " +
               std::to_string(stats.wait_seconds) + " s");
  if (!device->is_cpu()) {
    // Ops without a kernel for the device ran on host copies: correct, slow; worth knowing.
    std::string list;
    for (const auto& [kernel, count] : ops_internal::host_fallback_counts()) {
      list += " " + kernel + " x" + std::to_string(count);
    }
    run.log.Line(list.empty() ? "host fallbacks: none"
                              : "host fallbacks (ops run on host copies):" + list);
  }
  const double wall = std::chrono::duration<double>(Clock::now() - started).count();
  run.log.Line("done in " + std::to_string(static_cast<int64_t>(std::lround(wall))) +
               " s: " + run.dir.path() + " (report.html, eval.json)");
  return TrainResult{run.dir.path(), run.eval};
}

}  // namespace chorus::recipe
