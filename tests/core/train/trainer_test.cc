// The trainer: metrics.jsonl, gradient accumulation, and bit-exact resume — N steps straight
// equal N/2 steps, a checkpoint, fresh objects that resume, and N/2 more (weights, optimizer
// state and logged losses, bit for bit).
#include "core/train/trainer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "core/ops/dropout.h"
#include "core/ops/elementwise.h"
#include "core/ops/loss.h"
#include "core/ops/matmul.h"
#include "core/ops/reduce.h"
#include "core/optim/adamw.h"
#include "test_util.h"

namespace chorus::train {
namespace {

namespace fs = std::filesystem;

class TinyNet : public nn::Module {
 public:
  explicit TinyNet(uint64_t seed) : Module("TinyNet") {
    w1 = register_parameter("w1", testing::uniform({16, 8}, -0.3, 0.3, DType::kF32, seed));
    b1 = register_parameter("b1", Tensor::zeros({16}));
    w2 = register_parameter("w2", testing::uniform({4, 16}, -0.3, 0.3, DType::kF32, seed + 1));
  }
  Tensor forward(const Tensor& x, Generator& gen) const {
    return linear(dropout(gelu(linear(x, w1, b1)), 0.1, is_training(), gen), w2);
  }
  Tensor w1, b1, w2;
};

// A deterministic synthetic data set: batch `i` is a pure function of i, so the cursor is
// just the index of the next batch.
struct Data {
  int64_t next = 0;
  std::pair<Tensor, Tensor> batch() {
    const uint64_t i = static_cast<uint64_t>(next++);
    Tensor x = testing::uniform({6, 8}, -1, 1, DType::kF32, 1000 + i);
    std::vector<int64_t> y(6);
    for (int k = 0; k < 6; ++k) y[k] = static_cast<int64_t>((i * 7 + k * 3) % 4);
    return {x, Tensor::from_vector<int64_t>(y, {6})};
  }
};

struct TrainingRun {
  TinyNet net{5};
  std::unique_ptr<optim::AdamW> opt;
  Generator dropout_gen{77};
  Data data;
  std::unique_ptr<Trainer> trainer;

  TrainingRun(const std::string& dir, int64_t max_steps, int64_t accumulation = 1) {
    opt = std::make_unique<optim::AdamW>(net.named_parameters(),
                                         optim::AdamWOptions{.lr = 1e-2, .weight_decay = 0.1});
    TrainerOptions o;
    o.max_steps = max_steps;
    o.grad_accumulation = accumulation;
    o.clip_grad_norm = 0.5;
    o.schedule = {optim::Decay::kCosine, 2, 8, 0.1};
    o.run_dir = dir;
    o.quiet = true;
    o.keep_last = 2;
    trainer = std::make_unique<Trainer>(net, *opt, o);
    trainer->track_generator("dropout", &dropout_gen);
    trainer->set_cursor_hooks(
        [this] {
          return nlohmann::json{{"next", data.next}};
        },
        [this](const nlohmann::json& j) {
          data.next = j.at("next").get<int64_t>();
          return absl::OkStatus();
        });
  }

  absl::Status train() {
    return trainer->run([this](int64_t, int64_t) {
      auto [x, y] = data.batch();
      MicroBatch mb;
      mb.loss = cross_entropy(net.forward(x, dropout_gen), y);
      mb.tokens = 6;
      mb.metrics["w1_mean"] = mean(net.w1).item();
      return mb;
    });
  }
};

std::string fresh_dir(const std::string& name) {
  std::random_device rd;
  fs::path p = fs::temp_directory_path() / ("chorus-trainer-" + name + "-" + std::to_string(rd()));
  fs::remove_all(p);
  return p.string();
}

std::vector<nlohmann::json> read_metrics(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

void expect_bitwise_equal(const nn::NamedTensors& a, const nn::NamedTensors& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    const Tensor x = a[i].second.contiguous(), y = b[i].second.contiguous();
    ASSERT_EQ(x.shape(), y.shape()) << a[i].first;
    ASSERT_EQ(x.dtype(), y.dtype()) << a[i].first;
    EXPECT_EQ(std::memcmp(x.raw_data(), y.raw_data(), x.nbytes()), 0) << a[i].first;
  }
}

TEST(Trainer, ResumeIsBitExact) {
  const std::string straight_dir = fresh_dir("straight"), split_dir = fresh_dir("split");
  TrainingRun straight(straight_dir, 6);
  ASSERT_TRUE(straight.train().ok());

  {
    TrainingRun first_half(split_dir, 3);
    ASSERT_TRUE(first_half.train().ok());
  }
  TrainingRun second_half(split_dir, 6);  // fresh model, optimizer, generators and data
  auto resumed = second_half.trainer->resume();
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(*resumed, 3);
  EXPECT_EQ(second_half.data.next, 3);
  ASSERT_TRUE(second_half.train().ok());

  expect_bitwise_equal(straight.net.state_dict(), second_half.net.state_dict());
  expect_bitwise_equal(straight.opt->state_dict(), second_half.opt->state_dict());
  EXPECT_EQ(straight.dropout_gen.offset(), second_half.dropout_gen.offset());
  const auto a = read_metrics(straight_dir + "/metrics.jsonl");
  const auto b = read_metrics(split_dir + "/metrics.jsonl");
  ASSERT_EQ(a.size(), 6u);
  ASSERT_EQ(b.size(), 6u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i]["step"], b[i]["step"]);
    EXPECT_EQ(a[i]["loss"].get<double>(), b[i]["loss"].get<double>()) << "step " << i + 1;
    EXPECT_EQ(a[i]["grad_norm"].get<double>(), b[i]["grad_norm"].get<double>());
    EXPECT_EQ(a[i]["lr"].get<double>(), b[i]["lr"].get<double>());
  }
  fs::remove_all(straight_dir);
  fs::remove_all(split_dir);
}

TEST(Trainer, LogsScheduledLrAndMetrics) {
  const std::string dir = fresh_dir("log");
  TrainingRun run(dir, 8);
  ASSERT_TRUE(run.train().ok());
  const auto m = read_metrics(dir + "/metrics.jsonl");
  ASSERT_EQ(m.size(), 8u);
  // Warmup of 2 steps then cosine to 10% at step 8: lr(step 0) = base·1/2.
  EXPECT_NEAR(m[0]["lr"].get<double>(), 1e-2 * 0.5, 1e-12);
  EXPECT_NEAR(m[7]["lr"].get<double>(),
              1e-2 * optim::lr_factor({optim::Decay::kCosine, 2, 8, 0.1}, 7), 1e-12);
  EXPECT_TRUE(m[0].contains("w1_mean"));
  EXPECT_TRUE(m[0].contains("tokens_per_s"));
  EXPECT_LE(m[0]["grad_norm"].get<double>(), 1e6);
  fs::remove_all(dir);
}

TEST(Trainer, AccumulationAveragesMicroBatches) {
  // Two micro-batches of one step see two data batches; the logged loss is their mean.
  const std::string dir = fresh_dir("accum");
  TrainingRun run(dir, 1, /*accumulation=*/2);
  ASSERT_TRUE(run.train().ok());
  EXPECT_EQ(run.data.next, 2);
  fs::remove_all(dir);
}

TEST(Trainer, EngineErrorBecomesStatusNamingTheStep) {
  const std::string dir = fresh_dir("error");
  TrainingRun run(dir, 3);
  absl::Status s = run.trainer->run([](int64_t, int64_t) {
    MicroBatch mb;
    mb.loss = Tensor::zeros({2, 2});  // not a scalar
    return mb;
  });
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("training step 1"), std::string::npos) << s;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace chorus::train
