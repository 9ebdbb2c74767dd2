// `chorus demo`: trains a small two-layer network on Fashion-MNIST on the CPU and prints the
// training loss falling and the test accuracy. It exercises the whole foundation: tensors,
// broadcasting ops, matmul through OpenBLAS, fused cross-entropy, autograd and the thread
// pool. (The recipe engine will replace it as README's main job.)
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>

#include "absl/strings/numbers.h"
#include "core/autograd/node.h"
#include "core/ops/elementwise.h"
#include "core/ops/loss.h"
#include "core/ops/matmul.h"
#include "core/ops/reduce.h"
#include "core/tensor/parallel.h"
#include "core/tensor/philox.h"
#include "tools/chorus/commands.h"
#include "tools/chorus/fashion_mnist.h"

namespace chorus::cli {
namespace {

struct DemoOptions {
  int epochs = 2;
  int64_t batch = 128;
  int64_t hidden = 256;
  double lr = 0.05;
  double momentum = 0.9;
  uint64_t seed = 1;
  std::string data_dir = kFashionMnistDir;
};

// Uniform(-bound, bound) from the Philox stream: the same numbers on every machine.
Tensor init_uniform(const Shape& shape, double bound, Generator& gen) {
  const int64_t n = shape_numel(shape);
  const uint64_t offset = gen.reserve(static_cast<uint64_t>(n));
  Tensor t = Tensor::empty(shape, DType::kF32);
  float* p = t.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    const float u = uniform_from_word(philox_word(gen.seed(), offset, static_cast<uint64_t>(i)));
    p[i] = static_cast<float>((2.0 * u - 1.0) * bound);
  }
  return t;
}

// Pixels [count, 784] scaled to [0, 1] and centred with the training mean/std.
Tensor images_tensor(const FashionMnistSplit& s) {
  const int64_t d = s.rows * s.cols;
  Tensor t = Tensor::empty({s.count, d}, DType::kF32);
  float* p = t.data<float>();
  constexpr float kMean = 0.2860f, kStd = 0.3530f;  // Fashion-MNIST training statistics
  for (size_t i = 0; i < s.pixels.size(); ++i) p[i] = (s.pixels[i] / 255.0f - kMean) / kStd;
  return t;
}

Tensor labels_tensor(const FashionMnistSplit& s) {
  std::vector<int64_t> v(s.labels.begin(), s.labels.end());
  return Tensor::from_vector<int64_t>(v, {s.count});
}

bool parse_args(const std::vector<std::string>& args, DemoOptions& o) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has_value = i + 1 < args.size();
    if (a == "--epochs" && has_value && absl::SimpleAtoi(args[i + 1], &o.epochs) && o.epochs > 0) {
      ++i;
    } else if (a == "--threads" && has_value) {
      int n = 0;
      if (!absl::SimpleAtoi(args[++i], &n) || n <= 0) return false;
      set_num_threads(n);
    } else if (a == "--data" && has_value) {
      o.data_dir = args[++i];
    } else {
      std::cerr << "chorus demo: bad argument '" << a << "'\n"
                << "usage: chorus demo [--epochs N] [--threads N] [--data DIR]\n";
      return false;
    }
  }
  return true;
}

}  // namespace

int run_demo(const std::vector<std::string>& args) {
  DemoOptions o;
  if (!parse_args(args, o)) return 2;
  auto train = load_fashion_mnist(o.data_dir, "train");
  auto test = load_fashion_mnist(o.data_dir, "t10k");
  if (!train.ok() || !test.ok()) {
    std::cerr << "chorus demo: " << (train.ok() ? test.status() : train.status()).message() << "\n";
    return 1;
  }
  const Tensor x_train = images_tensor(*train), y_train = labels_tensor(*train);
  const Tensor x_test = images_tensor(*test), y_test = labels_tensor(*test);
  const int64_t d_in = train->rows * train->cols, classes = 10;
  std::printf(
      "Fashion-MNIST: %lld train / %lld test images of %lldx%lld; MLP %lld-%lld-%lld, "
      "%d threads\n",
      static_cast<long long>(train->count), static_cast<long long>(test->count),
      static_cast<long long>(train->rows), static_cast<long long>(train->cols),
      static_cast<long long>(d_in), static_cast<long long>(o.hidden),
      static_cast<long long>(classes), num_threads());

  Generator gen(o.seed);
  std::vector<Tensor> params = {
      init_uniform({o.hidden, d_in}, 1.0 / std::sqrt(double(d_in)), gen),
      init_uniform({o.hidden}, 1.0 / std::sqrt(double(d_in)), gen),
      init_uniform({classes, o.hidden}, 1.0 / std::sqrt(double(o.hidden)), gen),
      init_uniform({classes}, 1.0 / std::sqrt(double(o.hidden)), gen)};
  std::vector<Tensor> velocity;
  for (Tensor& p : params) {
    p.set_requires_grad();
    velocity.push_back(Tensor::zeros(p.shape()));
  }
  auto forward = [&](const Tensor& x) {
    Tensor h = gelu(linear(x, params[0], params[1]));
    return linear(h, params[2], params[3]);
  };

  const int64_t steps_per_epoch = train->count / o.batch;
  const auto start = std::chrono::steady_clock::now();
  double running = 0;
  int64_t step = 0, window = 0;
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    // A fresh Philox-seeded permutation each epoch (Fisher–Yates).
    std::vector<int64_t> order(static_cast<size_t>(train->count));
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
    const uint64_t off = gen.reserve(order.size());
    for (size_t i = order.size() - 1; i > 0; --i) {
      const uint64_t r = philox_word(gen.seed(), off, i) % (i + 1);
      std::swap(order[i], order[r]);
    }
    for (int64_t s = 0; s < steps_per_epoch; ++s, ++step) {
      Tensor xb = Tensor::empty({o.batch, d_in});
      std::vector<int64_t> yb(static_cast<size_t>(o.batch));
      for (int64_t b = 0; b < o.batch; ++b) {
        const int64_t idx = order[s * o.batch + b];
        xb.select(0, b).copy_(x_train.select(0, idx));
        yb[b] = static_cast<int64_t>(train->labels[idx]);
      }
      Tensor loss = cross_entropy(forward(xb), Tensor::from_vector<int64_t>(yb, {o.batch}));
      for (Tensor& p : params) p.set_grad(Tensor());
      loss.backward();
      {
        autograd::NoGradGuard no_grad;
        for (size_t k = 0; k < params.size(); ++k) {  // SGD with momentum, in place
          velocity[k].copy_(add(mul(velocity[k], o.momentum), params[k].grad()));
          params[k].detach().copy_(sub(params[k].detach(), mul(velocity[k], o.lr)));
        }
      }
      running += loss.item();
      ++window;
      if ((step + 1) % 100 == 0 || (epoch == 0 && s == 0)) {
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("epoch %d step %5lld  loss %.4f  (%.1f s)\n", epoch + 1,
                    static_cast<long long>(step + 1), running / window, secs);
        std::fflush(stdout);
        running = 0;
        window = 0;
      }
    }
  }
  autograd::NoGradGuard no_grad;
  const Tensor predicted = argmax(forward(x_test), 1);
  const double accuracy = mean(eq(predicted, y_test).to(DType::kF32)).item();
  std::printf("test accuracy: %.4f on %lld images\n", accuracy,
              static_cast<long long>(test->count));
  return 0;
}

}  // namespace chorus::cli
