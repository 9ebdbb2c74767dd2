// `chorus lm`: trains a small causal language model (dense or MoE feed-forward layers) on
// English text from Debian's `fortunes` package, byte-level (vocabulary 256), and reports the
// validation loss as it falls. The run directory holds metrics.jsonl, eval.jsonl and
// checkpoints; `--resume` continues from the newest good checkpoint bit-exactly.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/autograd/node.h"
#include "core/nn/causal_lm.h"
#include "core/ops/elementwise.h"
#include "core/optim/adamw.h"
#include "core/tensor/parallel.h"
#include "core/train/trainer.h"
#include "tools/chorus/commands.h"
#include "tools/chorus/lm_ffn.h"
#include "tools/chorus/text_corpus.h"

namespace chorus::cli {
namespace {

struct LmOptions {
  int64_t steps = 300;
  int64_t stop_after = 0;
  std::string ffn = "dense";  // dense | moe
  int64_t width = 128, depth = 4, heads = 4, seq = 128, batch = 16;
  int64_t experts = 8, top_k = 2, expert_hidden = 256;
  double lr = 3e-3;
  int64_t eval_every = 50, eval_windows = 64, checkpoint_every = 100;
  uint64_t seed = 1;
  std::string run_dir;
  std::string corpus_dir = kFortunesDir;
  bool resume = false;
};

bool parse(const std::vector<std::string>& args, LmOptions& o) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto next = [&](auto& v) {
      if (i + 1 >= args.size()) return false;
      const std::string& s = args[++i];
      if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>) {
        v = s;
        return true;
      } else if constexpr (std::is_same_v<std::decay_t<decltype(v)>, double>) {
        return absl::SimpleAtod(s, &v);
      } else {
        return absl::SimpleAtoi(s, &v);
      }
    };
    bool ok = true;
    if (a == "--steps")
      ok = next(o.steps);
    else if (a == "--stop-after")
      ok = next(o.stop_after);
    else if (a == "--ffn")
      ok = next(o.ffn) && (o.ffn == "dense" || o.ffn == "moe");
    else if (a == "--width")
      ok = next(o.width);
    else if (a == "--depth")
      ok = next(o.depth);
    else if (a == "--heads")
      ok = next(o.heads);
    else if (a == "--seq")
      ok = next(o.seq);
    else if (a == "--batch")
      ok = next(o.batch);
    else if (a == "--experts")
      ok = next(o.experts);
    else if (a == "--top-k")
      ok = next(o.top_k);
    else if (a == "--expert-hidden")
      ok = next(o.expert_hidden);
    else if (a == "--lr")
      ok = next(o.lr);
    else if (a == "--eval-every")
      ok = next(o.eval_every);
    else if (a == "--checkpoint-every")
      ok = next(o.checkpoint_every);
    else if (a == "--seed")
      ok = next(o.seed);
    else if (a == "--run-dir")
      ok = next(o.run_dir);
    else if (a == "--corpus")
      ok = next(o.corpus_dir);
    else if (a == "--resume")
      o.resume = true;
    else if (a == "--threads") {
      int n = 0;
      ok = i + 1 < args.size() && absl::SimpleAtoi(args[++i], &n) && n > 0;
      if (ok) set_num_threads(n);
    } else {
      ok = false;
    }
    if (!ok) {
      std::cerr << "chorus lm: bad argument '" << a << "'\n"
                << "usage: chorus lm [--ffn dense|moe] [--steps N] [--width D] [--depth N]\n"
                   "  [--heads N] [--seq L] [--batch B] [--experts E] [--top-k K]\n"
                   "  [--expert-hidden F] [--lr X] [--eval-every N] [--checkpoint-every N]\n"
                   "  [--seed S] [--run-dir DIR] [--corpus DIR] [--resume] [--threads N]\n"
                   "  [--stop-after N]   (end this process after step N, checkpointed)\n";
      return false;
    }
  }
  if (o.run_dir.empty()) o.run_dir = "runs/lm/" + o.ffn;
  return o.steps > 0 && o.seq > 1 && o.batch > 0;
}

// Windows of seq+1 bytes: inputs are the first seq, targets the last seq.
std::pair<Tensor, Tensor> windows(const std::string& text, const std::vector<int64_t>& starts,
                                  int64_t seq) {
  const int64_t b = static_cast<int64_t>(starts.size());
  std::vector<int64_t> x(static_cast<size_t>(b * seq)), y(x.size());
  for (int64_t i = 0; i < b; ++i) {
    for (int64_t t = 0; t < seq; ++t) {
      x[i * seq + t] = static_cast<unsigned char>(text[starts[i] + t]);
      y[i * seq + t] = static_cast<unsigned char>(text[starts[i] + t + 1]);
    }
  }
  return {Tensor::from_vector<int64_t>(x, {b, seq}), Tensor::from_vector<int64_t>(y, {b, seq})};
}

}  // namespace

int run_lm(const std::vector<std::string>& args) {
  LmOptions o;
  if (!parse(args, o)) return 2;
  auto corpus = load_fortunes_corpus(o.corpus_dir);
  if (!corpus.ok()) {
    std::cerr << "chorus lm: " << corpus.status().message() << "\n";
    return 1;
  }
  // The last 5% of the corpus is held out for validation.
  const int64_t split = static_cast<int64_t>(corpus->size() * 95 / 100);
  const std::string train_text = corpus->substr(0, split), val_text = corpus->substr(split);

  nn::TransformerConfig config;
  config.width = o.width;
  config.depth = o.depth;
  config.n_heads = o.heads;
  config.causal = true;
  config.rope = true;
  configure_ffn(config, o.ffn, o.experts, o.top_k, o.expert_hidden);
  Generator init_gen(o.seed);
  nn::CausalLM model(256, config, init_gen);
  optim::AdamW optimizer(
      optim::decay_groups(model, optim::AdamWOptions{.lr = o.lr, .weight_decay = 0.1}));
  std::printf(
      "chorus lm: %s model, %lld parameters (%lld active per token), corpus %zu bytes "
      "(train %zu, val %zu), %d threads\n",
      o.ffn.c_str(), static_cast<long long>(model.num_parameters()),
      static_cast<long long>(active_parameters(model, o.experts, o.top_k)), corpus->size(),
      train_text.size(), val_text.size(), num_threads());

  train::TrainerOptions topt;
  topt.max_steps = o.steps;
  topt.stop_after = o.stop_after;
  topt.clip_grad_norm = 1.0;
  topt.schedule = {optim::Decay::kCosine, std::min<int64_t>(50, o.steps / 10), o.steps, 0.1};
  topt.log_every = 10;
  topt.checkpoint_every = o.checkpoint_every;
  topt.run_dir = o.run_dir;
  topt.stage = "lm";
  topt.config =
      nlohmann::json{{"ffn", o.ffn},         {"width", o.width}, {"depth", o.depth},
                     {"heads", o.heads},     {"seq", o.seq},     {"batch", o.batch},
                     {"experts", o.experts}, {"top_k", o.top_k}, {"expert_hidden", o.expert_hidden},
                     {"lr", o.lr},           {"seed", o.seed},   {"steps", o.steps}}
          .dump();
  train::Trainer trainer(model, optimizer, topt);
  int64_t next_batch = 0;
  trainer.set_cursor_hooks(
      [&] {
        return nlohmann::json{{"next_batch", next_batch}};
      },
      [&](const nlohmann::json& j) {
        if (!j.contains("next_batch") || !j["next_batch"].is_number_integer())
          return absl::InvalidArgumentError("data cursor lacks next_batch");
        next_batch = j["next_batch"].get<int64_t>();
        return absl::OkStatus();
      });
  if (o.resume) {
    std::vector<std::string> warnings;
    auto at = trainer.resume(&warnings);
    for (const auto& w : warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    if (!at.ok()) {
      std::cerr << "chorus lm: " << at.status().message() << "\n";
      return 1;
    }
    std::printf("resumed at step %lld\n", static_cast<long long>(*at));
  }

  // Fixed, evenly spaced validation windows.
  std::vector<int64_t> val_starts;
  const int64_t val_span = static_cast<int64_t>(val_text.size()) - o.seq - 1;
  for (int64_t i = 0; i < o.eval_windows; ++i) val_starts.push_back(i * val_span / o.eval_windows);
  const auto [val_x, val_y] = windows(val_text, val_starts, o.seq);
  auto evaluate = [&]() {
    autograd::NoGradGuard no_grad;
    model.eval();
    const double loss = model.forward(val_x, val_y).loss.item();
    model.train();
    return loss;
  };
  auto log_eval = [&](int64_t step) {
    const double loss = evaluate();
    std::printf("step %6lld  validation loss %.4f (%.3f bits/byte)\n", static_cast<long long>(step),
                loss, loss / std::log(2.0));
    std::ofstream(o.run_dir + "/eval.jsonl", std::ios::app)
        << nlohmann::json{{"step", step}, {"val_loss", loss}}.dump() << "\n";
  };
  trainer.set_after_step([&](int64_t step) {
    if (step % o.eval_every == 0 || step == o.steps) log_eval(step);
  });

  const uint64_t data_seed = o.seed * 1000003 + 17;
  const int64_t train_span = static_cast<int64_t>(train_text.size()) - o.seq - 1;
  absl::Status status = trainer.run([&](int64_t, int64_t) {
    // Batch i is a pure function of (seed, i): the cursor is just i.
    std::vector<int64_t> starts;
    for (int64_t b = 0; b < o.batch; ++b) {
      const uint64_t w =
          philox_word(data_seed, static_cast<uint64_t>(next_batch) * 64, static_cast<uint64_t>(b));
      starts.push_back(static_cast<int64_t>(w % static_cast<uint64_t>(train_span)));
    }
    ++next_batch;
    auto [x, y] = windows(train_text, starts, o.seq);
    nn::CausalLMOutput out = model.forward(x, y);
    train::MicroBatch mb;
    mb.loss = out.aux_loss.defined() ? add(out.loss, out.aux_loss) : out.loss;
    mb.tokens = o.batch * o.seq;
    mb.metrics["lm_loss"] = out.loss.item();
    add_ffn_metrics(model, mb.metrics);
    return mb;
  });
  if (!status.ok()) {
    std::cerr << "chorus lm: " << status.message() << "\n";
    return 1;
  }
  std::printf("done: %s (metrics.jsonl, eval.jsonl, checkpoints/)\n", o.run_dir.c_str());
  return 0;
}

}  // namespace chorus::cli
