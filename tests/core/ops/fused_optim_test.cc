// Fused optimizer updates (fused_adamw_, fused_sgd_) and the gradient-clipping primitives
// (abs_pow_sum, scale_) against naive per-element loops in double. These ops are not
// differentiable (in-place updates outside the graph), so there is no gradcheck.
#include <gtest/gtest.h>

#include <cmath>

#include "core/ops/fused_adamw.h"
#include "core/ops/fused_sgd.h"
#include "core/ops/grad_clip.h"
#include "core/tensor/float_formats.h"
#include "core/tensor/parallel.h"
#include "test_util.h"

namespace chorus {
namespace {

using testing::AllClose;
using testing::uniform;

struct AdamWRef {
  std::vector<double> p, m, v;
};

// One AdamW update written directly from the paper's formulas, in double.
void adamw_ref(AdamWRef& r, const std::vector<double>& g, const AdamWStep& h) {
  for (size_t i = 0; i < r.p.size(); ++i) {
    r.p[i] *= 1 - h.lr * h.weight_decay;
    r.m[i] = h.beta1 * r.m[i] + (1 - h.beta1) * g[i];
    r.v[i] = h.beta2 * r.v[i] + (1 - h.beta2) * g[i] * g[i];
    const double mhat = r.m[i] / (1 - std::pow(h.beta1, h.step));
    const double vhat = r.v[i] / (1 - std::pow(h.beta2, h.step));
    r.p[i] -= h.lr * mhat / (std::sqrt(vhat) + h.eps);
  }
}

TEST(FusedAdamW, MatchesNaiveLoopOverStepsAndGradDtypes) {
  // 70001 elements: several thread chunks and an odd tail.
  for (DType gd : {DType::kF32, DType::kBF16, DType::kF16, DType::kF64, DType::kF8E4M3}) {
    SCOPED_TRACE(dtype_name(gd));
    const Shape shape{70001};
    Tensor p = uniform(shape, -1, 1, DType::kF32, 1);
    Tensor m = Tensor::zeros(shape), v = Tensor::zeros(shape);
    AdamWRef ref{p.to_vector<double>(), std::vector<double>(70001), std::vector<double>(70001)};
    for (int64_t step = 1; step <= 4; ++step) {
      const Tensor g = uniform(shape, -0.5, 0.5, gd, 10 + step);
      const AdamWStep h{0.01, 0.9, 0.99, 1e-8, 0.1, step};
      fused_adamw_(p, g, m, v, h);
      adamw_ref(ref, g.to_vector<double>(), h);
    }
    EXPECT_TRUE(AllClose(p, Tensor::from_doubles(ref.p, shape, DType::kF64), 1e-6, 1e-6));
    EXPECT_TRUE(AllClose(m, Tensor::from_doubles(ref.m, shape, DType::kF64), 1e-7, 1e-6));
    EXPECT_TRUE(AllClose(v, Tensor::from_doubles(ref.v, shape, DType::kF64), 1e-8, 1e-5));
  }
}

TEST(FusedAdamW, F64StateAndMasterWriteBack) {
  Tensor p = uniform({5, 3}, -1, 1, DType::kF64, 2);
  Tensor m = Tensor::zeros({5, 3}, DType::kF64), v = Tensor::zeros({5, 3}, DType::kF64);
  AdamWRef ref{p.to_vector<double>(), std::vector<double>(15), std::vector<double>(15)};
  const Tensor g = uniform({5, 3}, -1, 1, DType::kF64, 3);
  const AdamWStep h{0.1, 0.8, 0.9, 1e-6, 0.0, 1};
  fused_adamw_(p, g, m, v, h);
  adamw_ref(ref, g.to_vector<double>(), h);
  EXPECT_TRUE(AllClose(p, Tensor::from_doubles(ref.p, {5, 3}, DType::kF64), 1e-14, 1e-14));

  // Master update with write-back: the bf16 parameter gets the master rounded to nearest even.
  Tensor master = uniform({33}, -1, 1, DType::kF32, 4);
  Tensor model = master.to(DType::kBF16);
  Tensor mm = Tensor::zeros({33}), vv = Tensor::zeros({33});
  fused_adamw_(master, uniform({33}, -1, 1, DType::kBF16, 5), mm, vv, AdamWStep{.lr = 0.01}, model);
  const auto mv = master.to_vector<float>();
  const auto* bits = static_cast<const uint16_t*>(model.raw_data());
  for (size_t i = 0; i < mv.size(); ++i) EXPECT_EQ(bits[i], float_to_bf16(mv[i])) << i;
}

TEST(FusedAdamW, NonContiguousOperandsAreUpdatedInPlace) {
  Tensor base = uniform({4, 6}, -1, 1, DType::kF32, 6);
  Tensor p = base.t();  // [6, 4] view, not contiguous
  Tensor pc = p.contiguous().clone();
  Tensor m = Tensor::zeros({6, 4}), v = Tensor::zeros({6, 4});
  Tensor mc = m.clone(), vc = v.clone();
  const Tensor g = uniform({6, 4}, -1, 1, DType::kF32, 7);
  fused_adamw_(p, g.t().contiguous().t(), m, v, AdamWStep{.lr = 0.1, .weight_decay = 0.1});
  fused_adamw_(pc, g, mc, vc, AdamWStep{.lr = 0.1, .weight_decay = 0.1});
  EXPECT_TRUE(AllClose(base.t(), pc, 0, 0));  // written through the view
}

TEST(FusedAdamW, EmptyAndMisuse) {
  Tensor e = Tensor::zeros({0, 3});
  fused_adamw_(e, e, e.clone(), e.clone(), AdamWStep{});
  Tensor p = Tensor::zeros({3}), m = Tensor::zeros({3}), v = Tensor::zeros({3});
  const Tensor g = Tensor::ones({3});
  EXPECT_THROW(fused_adamw_(p, Tensor::ones({4}), m, v, AdamWStep{}), Error);
  EXPECT_THROW(fused_adamw_(p, g, Tensor::zeros({4}), v, AdamWStep{}), Error);
  EXPECT_THROW(fused_adamw_(p, g, m, Tensor::zeros({3}, DType::kF64), AdamWStep{}), Error);
  EXPECT_THROW(fused_adamw_(Tensor::zeros({3}, DType::kBF16), g, m, v, AdamWStep{}), Error);
  EXPECT_THROW(fused_adamw_(p, Tensor::ones({3}, DType::kI32), m, v, AdamWStep{}), Error);
  EXPECT_THROW(fused_adamw_(p, g, m, v, AdamWStep{.step = 0}), Error);
  EXPECT_THROW(fused_adamw_(p, g, m, v, AdamWStep{.beta2 = 1.0}), Error);
  EXPECT_THROW(fused_adamw_(p, g, m, v, AdamWStep{}, Tensor::zeros({3})), Error);  // f32 model
  EXPECT_THROW(fused_adamw_(p, g, m, v, AdamWStep{}, Tensor::zeros({2}, DType::kBF16)), Error);
  EXPECT_EQ(p.to_vector<float>(), std::vector<float>(3, 0.0f));  // nothing was written
}

TEST(FusedSGD, MatchesNaiveLoop) {
  struct Case {
    double momentum, dampening, wd;
    bool nesterov;
  };
  for (const Case& c : {Case{0, 0, 0, false}, Case{0, 0, 0.1, false}, Case{0.9, 0, 0, false},
                        Case{0.9, 0.3, 0.01, false}, Case{0.8, 0, 0.05, true}}) {
    SCOPED_TRACE(::testing::Message()
                 << c.momentum << " " << c.dampening << " " << c.wd << " " << c.nesterov);
    const Shape shape{40001};
    Tensor p = uniform(shape, -1, 1, DType::kF32, 1);
    Tensor buf = c.momentum != 0 ? Tensor::empty(shape) : Tensor();
    std::vector<double> rp = p.to_vector<double>(), rb(40001);
    for (int step = 0; step < 3; ++step) {
      const Tensor g = uniform(shape, -1, 1, DType::kBF16, 20 + step);
      fused_sgd_(p, g, buf, SGDStep{0.1, c.momentum, c.dampening, c.wd, c.nesterov, step == 0});
      const auto gv = g.to_vector<double>();
      for (size_t i = 0; i < rp.size(); ++i) {
        double d = gv[i] + c.wd * rp[i];
        if (c.momentum != 0) {
          rb[i] = step == 0 ? d : c.momentum * rb[i] + (1 - c.dampening) * d;
          d = c.nesterov ? d + c.momentum * rb[i] : rb[i];
        }
        rp[i] -= 0.1 * d;
      }
    }
    EXPECT_TRUE(AllClose(p, Tensor::from_doubles(rp, shape, DType::kF64), 1e-6, 1e-6));
    if (buf.defined()) {
      EXPECT_TRUE(AllClose(buf, Tensor::from_doubles(rb, shape, DType::kF64), 1e-6, 1e-6));
    }
  }
}

TEST(FusedSGD, Misuse) {
  Tensor p = Tensor::zeros({3});
  const Tensor g = Tensor::ones({3});
  EXPECT_THROW(fused_sgd_(p, g, Tensor(), SGDStep{.momentum = 0.9}), Error);  // no buffer
  EXPECT_THROW(fused_sgd_(p, g, Tensor::zeros({3}), SGDStep{.nesterov = true}), Error);
  EXPECT_THROW(fused_sgd_(p, g, Tensor(), SGDStep{}, Tensor::zeros({3}, DType::kI8)), Error);
  fused_sgd_(p, g, Tensor(), SGDStep{.lr = 0.5});
  EXPECT_EQ(p.to_vector<float>(), std::vector<float>(3, -0.5f));
}

TEST(GradClipOps, AbsPowSumMatchesNaiveAndIgnoresThreadCount) {
  for (DType d : {DType::kF32, DType::kBF16, DType::kF16, DType::kF64, DType::kF8E5M2}) {
    SCOPED_TRACE(dtype_name(d));
    const Tensor x = uniform({50003}, -2, 2, d, 8);
    const auto v = x.to_vector<double>();
    for (double p : {1.0, 2.0, 2.5, static_cast<double>(INFINITY)}) {
      double want = 0;
      for (double e : v)
        want = std::isinf(p) ? std::max(want, std::fabs(e)) : want + std::pow(std::fabs(e), p);
      const double got = abs_pow_sum(x, p);
      EXPECT_NEAR(got, want, 1e-11 * want) << p;
      const int threads = num_threads();
      set_num_threads(1);
      EXPECT_EQ(abs_pow_sum(x, p), got) << "thread count changed the result";
      set_num_threads(threads);
    }
  }
  EXPECT_EQ(abs_pow_sum(Tensor::zeros({0}), 2.0), 0.0);
  EXPECT_TRUE(std::isnan(abs_pow_sum(Tensor::from_vector<float>({1, NAN, 2}, {3}), INFINITY)));
  EXPECT_THROW(abs_pow_sum(Tensor::zeros({2}, DType::kI32), 2.0), Error);
  EXPECT_THROW(abs_pow_sum(Tensor::zeros({2}), 0.0), Error);
  // Strided input.
  const Tensor m = uniform({3, 5}, -1, 1, DType::kF32, 9);
  EXPECT_DOUBLE_EQ(abs_pow_sum(m.t(), 1.0), abs_pow_sum(m, 1.0));
}

TEST(GradClipOps, ScaleRoundsToTheTensorDtype) {
  const Tensor x = uniform({1000}, -1, 1, DType::kBF16, 10);
  Tensor y = x.clone();
  scale_(y, 0.3);
  const auto xv = x.to_vector<float>();
  const auto* yb = static_cast<const uint16_t*>(y.raw_data());
  for (size_t i = 0; i < xv.size(); ++i) EXPECT_EQ(yb[i], float_to_bf16(xv[i] * 0.3f)) << i;
  Tensor base = uniform({4, 4}, -1, 1, DType::kF64, 11);
  const Tensor want = base.clone();
  Tensor view = base.t();
  scale_(view, 2.0);
  const auto bv = base.to_vector<double>(), wv = want.to_vector<double>();
  for (size_t i = 0; i < bv.size(); ++i) EXPECT_EQ(bv[i], 2.0 * wv[i]) << i;  // via the view
  Tensor f8 = Tensor::from_doubles({1.0, -2.0}, {2}, DType::kF8E4M3);
  scale_(f8, 0.5);
  EXPECT_EQ(f8.to_vector<double>(), (std::vector<double>{0.5, -1.0}));
  EXPECT_THROW(scale_(Tensor::zeros({2}, DType::kI64), 2.0), Error);
}

}  // namespace
}  // namespace chorus
