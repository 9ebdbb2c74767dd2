#include "core/align/linear_probe.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/autograd/node.h"
#include "core/ops/elementwise.h"
#include "core/ops/index.h"
#include "core/ops/loss.h"
#include "core/ops/matmul.h"
#include "core/ops/reduce.h"
#include "core/optim/adamw.h"
#include "core/tensor/philox.h"

namespace chorus::align {

namespace {

void check_split(const Tensor& x, const std::vector<int64_t>& y, int64_t classes,
                 const char* name) {
  CHORUS_CHECK(x.dim() == 2 && x.size(0) == static_cast<int64_t>(y.size()), "linear_probe: ", name,
               " features ", shape_str(x.shape()), " need one label per row (", y.size(),
               " given)");
  for (size_t i = 0; i < y.size(); ++i) {
    CHORUS_CHECK(y[i] >= 0 && y[i] < classes, "linear_probe: ", name, " label ", y[i], " of row ",
                 i, " is outside [0, ", classes, ")");
  }
}

double accuracy(const Tensor& logits, const std::vector<int64_t>& y) {
  if (y.empty()) return 0;
  const std::vector<int64_t> pred = argmax(logits, 1).to_vector<int64_t>();
  double hit = 0;
  for (size_t i = 0; i < y.size(); ++i) hit += pred[i] == y[i];
  return hit / static_cast<double>(y.size());
}

}  // namespace

LinearProbeResult linear_probe(const Tensor& train_x, const std::vector<int64_t>& train_y,
                               const Tensor& test_x, const std::vector<int64_t>& test_y,
                               int64_t num_classes, const LinearProbeOptions& options) {
  CHORUS_CHECK(num_classes >= 2, "linear_probe: need at least 2 classes");
  check_split(train_x, train_y, num_classes, "train");
  check_split(test_x, test_y, num_classes, "test");
  CHORUS_CHECK(train_x.size(0) > 0 && train_x.size(1) == test_x.size(1), "linear_probe: train ",
               shape_str(train_x.shape()), " and test ", shape_str(test_x.shape()),
               " features must share their width");
  CHORUS_CHECK(options.epochs >= 1 && options.batch_size >= 1, "linear_probe: bad options");
  const int64_t n = train_x.size(0), d = train_x.size(1);

  Tensor mu, sd, xtr, xte;
  {
    autograd::NoGradGuard no_grad;
    const Tensor x = train_x.to(DType::kF32).detach();
    mu = mean(x, {0}, true);
    sd = clamp(sqrt(var(x, {0}, 0, true)), 1e-6, 1e30);  // constant features stay finite
    xtr = div(sub(x, mu), sd).contiguous();
    xte = div(sub(test_x.to(DType::kF32).detach(), mu), sd).contiguous();
  }
  // Gradients on for the probe's own training: evaluation calls it under NoGradGuard.
  autograd::EnableGradGuard grad_on;
  // Zero init: the optimum is unique (convex, with weight decay) and the run deterministic.
  const Tensor w = Tensor::zeros({num_classes, d});
  const Tensor b = Tensor::zeros({num_classes});
  w.set_requires_grad();
  b.set_requires_grad();
  optim::AdamWOptions ao;
  ao.lr = options.lr;
  ao.weight_decay = options.weight_decay;
  optim::AdamW opt({{"weight", w}, {"bias", b}}, ao);

  LinearProbeResult r;
  std::vector<int64_t> order(n);
  for (int e = 0; e < options.epochs; ++e) {
    // Philox-keyed shuffle: sort rows by their draw for (seed, epoch).
    std::vector<uint32_t> key(n);
    for (int64_t i = 0; i < n; ++i)
      key[i] = philox_word(options.seed, static_cast<uint64_t>(e) << 32, i);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t c) { return key[a] < key[c]; });
    double loss_sum = 0;
    for (int64_t s = 0; s < n; s += options.batch_size) {
      const int64_t m = std::min(options.batch_size, n - s);
      std::vector<int64_t> rows(order.begin() + s, order.begin() + s + m), ys(m);
      for (int64_t i = 0; i < m; ++i) ys[i] = train_y[rows[i]];
      const Tensor xb = index_select(xtr, 0, Tensor::from_vector(rows, {m}));
      const Tensor loss = cross_entropy(linear(xb, w, b), Tensor::from_vector(ys, {m}));
      opt.zero_grad();
      loss.backward();
      opt.step();
      loss_sum += loss.item() * static_cast<double>(m);
    }
    r.epoch_loss.push_back(loss_sum / static_cast<double>(n));
  }
  autograd::NoGradGuard no_grad;
  r.train_accuracy = accuracy(linear(xtr, w, b), train_y);
  r.test_accuracy = accuracy(linear(xte, w, b), test_y);
  return r;
}

}  // namespace chorus::align
