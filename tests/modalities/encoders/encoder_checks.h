// Checks every encoder test runs: finite-difference gradients for every parameter, and
// state-dict round trips.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include "chorus/plugin.h"
#include "core/autograd/node.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "test_util.h"

namespace chorus::testing {

// L = Σ pooled ⊙ W1 + Σ tokens ⊙ mask ⊙ W2 with fixed weights: every pooled element and every
// real token matters; padded tokens do not (their values are unspecified).
inline Tensor encoder_loss(plugin::Encoder& enc, const data::Batch& batch) {
  auto out = enc.encode(batch);
  CHORUS_CHECK(out.ok(), std::string(out.status().message()));
  const Tensor w1 = uniform(out->pooled.shape(), 0.5, 1.5, out->pooled.dtype(), 11);
  const Tensor w2 = uniform(out->tokens.shape(), 0.5, 1.5, out->tokens.dtype(), 12);
  const Tensor m = out->mask.to(out->tokens.dtype()).unsqueeze(-1);
  return add(sum(mul(out->pooled, w1)), sum(mul(mul(out->tokens, m), w2)));
}

// The encoder must be in f64 (enc.to(DType::kF64)) with dropout off. Every parameter gets a
// finite gradient that is non-zero somewhere, and for three elements of each (its largest
// gradient and two others) the gradient matches central differences.
inline void ExpectGradientsMatchFiniteDifferences(plugin::Encoder& enc, const data::Batch& batch) {
  enc.zero_grad();
  encoder_loss(enc, batch).backward();
  for (const auto& [name, p] : enc.named_parameters()) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(p.grad().defined()) << "no gradient reached " << name;
    const std::vector<double> g = p.grad().to_vector<double>();
    size_t arg = 0;
    for (size_t i = 0; i < g.size(); ++i) {
      ASSERT_TRUE(std::isfinite(g[i]));
      if (std::fabs(g[i]) > std::fabs(g[arg])) arg = i;
    }
    ASSERT_GT(std::fabs(g[arg]), 0.0) << name << " has an all-zero gradient";
    const int64_t n = p.numel();
    for (int64_t i : {static_cast<int64_t>(arg), n / 3, (2 * n) / 3}) {
      Tensor flat = p.detach().as_strided({n}, {1}, p.offset());
      Tensor elem = flat.as_strided({1}, {1}, p.offset() + i);
      const double x = elem.item(), eps = 1e-6;
      autograd::NoGradGuard guard;
      elem.fill_(x + eps);
      const double plus = encoder_loss(enc, batch).item();
      elem.fill_(x - eps);
      const double minus = encoder_loss(enc, batch).item();
      elem.fill_(x);
      const double numeric = (plus - minus) / (2 * eps);
      EXPECT_NEAR(g[static_cast<size_t>(i)], numeric, 1e-6 + 1e-4 * std::fabs(numeric))
          << name << " element " << i;
    }
  }
}

// Two encoders of the same options: same seed -> identical state; different seed -> not.
inline void ExpectSeededInit(plugin::Encoder& a, plugin::Encoder& same, plugin::Encoder& other) {
  const auto sa = a.state_dict(), ss = same.state_dict(), so = other.state_dict();
  ASSERT_EQ(sa.size(), ss.size());
  bool any_differs = false;
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i].first, ss[i].first);
    EXPECT_TRUE(AllClose(sa[i].second, ss[i].second, 0, 0)) << sa[i].first;
    if (!AllClose(sa[i].second, so[i].second, 0, 0)) any_differs = true;
  }
  EXPECT_TRUE(any_differs) << "a different seed gave the same parameters";
}

}  // namespace chorus::testing
