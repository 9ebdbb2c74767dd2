#include "core/train/trainer.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "core/autograd/node.h"
#include "core/ops/elementwise.h"
#include "core/optim/clip.h"
#include "core/train/checkpoint.h"

namespace chorus::train {

namespace fs = std::filesystem;

Trainer::Trainer(nn::Module& model, optim::Optimizer& optimizer, TrainerOptions options)
    : model_(model),
      optimizer_(optimizer),
      options_(std::move(options)),
      scheduler_(optimizer, options_.schedule.total_steps > 0
                                ? options_.schedule
                                : optim::Schedule{optim::Decay::kConstant, 0, 1, 1.0}) {
  CHORUS_CHECK(options_.grad_accumulation >= 1, "trainer: grad_accumulation must be >= 1, got ",
               options_.grad_accumulation);
  CHORUS_CHECK(!options_.run_dir.empty(), "trainer: run_dir is empty");
}

void Trainer::track_generator(const std::string& name, Generator* generator) {
  CHORUS_CHECK(generator != nullptr, "trainer: generator '", name, "' is null");
  generators_[name] = generator;
}

void Trainer::set_cursor_hooks(std::function<nlohmann::json()> save,
                               std::function<absl::Status(const nlohmann::json&)> load) {
  save_cursor_ = std::move(save);
  load_cursor_ = std::move(load);
}

absl::StatusOr<std::string> Trainer::save_checkpoint() {
  CheckpointState state;
  state.step = step_;
  state.stage = options_.stage;
  state.config = options_.config;
  for (const auto& [name, g] : generators_) state.rng[name] = {g->seed(), g->offset()};
  if (save_cursor_) state.data_cursor = save_cursor_();
  return train::save_checkpoint(checkpoint_root(), model_.state_dict(), optimizer_.state_dict(),
                                state, options_.keep_last);
}

absl::StatusOr<int64_t> Trainer::resume(std::vector<std::string>* warnings) {
  if (!fs::exists(checkpoint_root())) return 0;
  auto loaded = load_latest_checkpoint(checkpoint_root(), warnings);
  if (absl::IsNotFound(loaded.status())) return 0;
  if (!loaded.ok()) return loaded.status();
  const std::string where = absl::StrCat("resume from ", loaded->dir, ": ");
  if (absl::Status s = model_.load_state_dict(loaded->model); !s.ok()) {
    return absl::Status(s.code(), where + std::string(s.message()));
  }
  if (absl::Status s = optimizer_.load_state_dict(loaded->optimizer); !s.ok()) {
    return absl::Status(s.code(), where + std::string(s.message()));
  }
  for (const auto& [name, g] : generators_) {
    auto it = loaded->state.rng.find(name);
    if (it == loaded->state.rng.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "the checkpoint has no random stream '", name, "'"));
    }
    g->set_state(it->second.first, it->second.second);
  }
  if (load_cursor_) {
    if (absl::Status s = load_cursor_(loaded->state.data_cursor); !s.ok()) {
      return absl::Status(s.code(), where + std::string(s.message()));
    }
  }
  step_ = loaded->state.step;
  if (absl::Status s = trim_metrics(step_); !s.ok()) return s;
  return step_;
}

absl::Status Trainer::append_metrics(const nlohmann::json& line) {
  std::ofstream out(metrics_path(), std::ios::app);
  out << line.dump() << "\n";
  out.flush();
  if (!out) return absl::InternalError(absl::StrCat(metrics_path(), ": write failed"));
  return absl::OkStatus();
}

// Lines logged after the checkpoint by a run that was then killed would be repeated by the
// resumed run: drop them, rewriting the file atomically.
absl::Status Trainer::trim_metrics(int64_t last_step) {
  std::ifstream in(metrics_path());
  if (!in) return absl::OkStatus();
  std::ostringstream kept;
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("step") && j["step"].is_number_integer() &&
        j["step"].get<int64_t>() <= last_step) {
      kept << line << "\n";
    }
  }
  const std::string tmp = metrics_path() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << kept.str();
    if (!out) return absl::InternalError(absl::StrCat(tmp, ": write failed"));
  }
  std::error_code ec;
  fs::rename(tmp, metrics_path(), ec);
  if (ec) return absl::InternalError(absl::StrCat(metrics_path(), ": ", ec.message()));
  return absl::OkStatus();
}

absl::Status Trainer::run(const std::function<MicroBatch(int64_t, int64_t)>& micro_batch) {
  std::error_code ec;
  fs::create_directories(options_.run_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat(options_.run_dir, ": ", ec.message()));
  model_.train();
  const int64_t n = options_.grad_accumulation;
  const int64_t last = options_.stop_after > 0 ? std::min(options_.stop_after, options_.max_steps)
                                               : options_.max_steps;
  while (step_ < last) {
    const auto start = std::chrono::steady_clock::now();
    scheduler_.apply(step_);
    double loss_sum = 0;
    int64_t tokens = 0;
    std::map<std::string, double> metrics;
    try {
      for (int64_t m = 0; m < n; ++m) {
        MicroBatch mb = micro_batch(step_, m);
        CHORUS_CHECK(mb.loss.defined() && mb.loss.numel() == 1,
                     "the micro-batch function must return a scalar loss");
        loss_sum += mb.loss.item();
        tokens += mb.tokens;
        for (const auto& [k, v] : mb.metrics) metrics[k] += v / static_cast<double>(n);
        (n == 1 ? mb.loss : mul(mb.loss, 1.0 / static_cast<double>(n))).backward();
      }
      const double norm = options_.clip_grad_norm > 0
                              ? optim::clip_grad_norm(optimizer_, options_.clip_grad_norm)
                              : optim::grad_norm(model_.parameters());
      optimizer_.step();
      optimizer_.zero_grad();
      ++step_;
      if (after_step_) after_step_(step_);
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (step_ % options_.log_every == 0 || step_ == options_.max_steps) {
        nlohmann::json line = {{"step", step_},
                               {"loss", loss_sum / static_cast<double>(n)},
                               {"grad_norm", norm},
                               {"lr", optimizer_.lr(0)},
                               {"tokens_per_s", secs > 0 ? tokens / secs : 0.0}};
        if (!options_.stage.empty()) line["stage"] = options_.stage;
        for (const auto& [k, v] : metrics) line[k] = v;
        if (absl::Status s = append_metrics(line); !s.ok()) return s;
        if (!options_.quiet) {
          std::printf("step %6lld/%lld  loss %.4f  grad_norm %.3f  lr %.2e  %.0f tok/s\n",
                      static_cast<long long>(step_), static_cast<long long>(options_.max_steps),
                      loss_sum / static_cast<double>(n), norm, optimizer_.lr(0),
                      secs > 0 ? tokens / secs : 0.0);
          std::fflush(stdout);
        }
      }
    } catch (const Error& e) {
      return absl::InternalError(absl::StrCat("training step ", step_ + 1, ": ", e.what()));
    }
    const bool periodic = options_.checkpoint_every > 0 && step_ % options_.checkpoint_every == 0;
    if (periodic || step_ == last) {
      auto dir = save_checkpoint();
      if (!dir.ok()) return dir.status();
    }
  }
  return absl::OkStatus();
}

}  // namespace chorus::train
