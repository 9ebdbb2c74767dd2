// Parity of softmax, layer_norm, rms_norm and the fused cross-entropy.
#include <gtest/gtest.h>

#include "core/ops/elementwise.h"
#include "core/ops/loss.h"
#include "core/ops/normalization.h"
#include "core/ops/softmax.h"
#include "tests/cuda/parity.h"

namespace chorus::parity {
namespace {

const DType kFloatTypes[] = {DType::kF32, DType::kBF16, DType::kF16, DType::kF64};

TEST(CudaParity, Softmax) {
  CHORUS_REQUIRE_GPU();
  const std::vector<std::pair<Shape, int64_t>> cases = {
      {{}, 0},      {{7}, 0},         {{5, 33}, -1},    {{5, 33}, 0},  {{3, 4, 5}, 1},
      {{0, 9}, -1}, {{64, 4097}, -1}, {{2, 30000}, -1}, {{1000, 3}, 1}};
  uint64_t seed = 1;
  for (DType dt : kFloatTypes) {
    for (const auto& [shape, dim] : cases) {
      const Tensor x = rand(shape, dt, seed++, -4, 4);
      check_op("softmax", dt, {x},
               [&](const std::vector<Tensor>& in) { return softmax(in[0], dim); });
      check_op("log_softmax", dt, {x},
               [&](const std::vector<Tensor>& in) { return log_softmax(in[0], dim); });
    }
  }
}

TEST(CudaParity, LayerAndRmsNorm) {
  CHORUS_REQUIRE_GPU();
  const std::vector<Shape> shapes = {{7},         {5, 33},   {3, 4, 64}, {0, 16},
                                     {257, 1024}, {8, 6000}, {2, 40000}};
  uint64_t seed = 50;
  for (DType dt : kFloatTypes) {
    for (const Shape& s : shapes) {
      const int64_t d = s.back();
      const Tensor x = rand(s, dt, seed++, -2, 3);
      const DType wdt = dt == DType::kF64 ? DType::kF64 : DType::kF32;
      const Tensor w = rand({d}, wdt, seed++, 0.5, 1.5), b = rand({d}, wdt, seed++);
      check_op("layer_norm", dt, {x, w, b}, [&](const std::vector<Tensor>& in) {
        return layer_norm(in[0], {d}, in[1], in[2], 1e-5);
      });
      check_op("layer_norm_no_affine", dt, {x}, [&](const std::vector<Tensor>& in) {
        return layer_norm(in[0], {d}, Tensor(), Tensor(), 1e-5);
      });
      check_op("rms_norm", dt, {x, w},
               [&](const std::vector<Tensor>& in) { return rms_norm(in[0], in[1], 1e-6); });
      check_op("rms_norm_no_weight", dt, {x},
               [&](const std::vector<Tensor>& in) { return rms_norm(in[0], Tensor(), 1e-6); });
    }
  }
}

TEST(CudaParity, CrossEntropy) {
  CHORUS_REQUIRE_GPU();
  struct Case {
    int64_t n, c;
    double smoothing;
    Reduction reduction;
  };
  const std::vector<Case> cases = {
      {1, 1, 0.0, Reduction::kMean},      {9, 7, 0.0, Reduction::kMean},
      {9, 7, 0.1, Reduction::kSum},       {33, 1000, 0.0, Reduction::kNone},
      {16, 32000, 0.1, Reduction::kMean}, {4, 128256, 0.0, Reduction::kMean},
      {5, 50257, 0.2, Reduction::kNone},  {0, 10, 0.0, Reduction::kSum}};
  uint64_t seed = 300;
  for (DType dt : kFloatTypes) {
    for (const Case& c : cases) {
      const Tensor logits = rand({c.n, c.c}, dt, seed++, -6, 6);
      // Every third target is ignored.
      std::vector<int64_t> t = randint({c.n}, 0, c.c, seed++).to_vector<int64_t>();
      for (size_t i = 0; i < t.size(); i += 3) t[i] = -100;
      const Tensor targets = Tensor::from_vector(t, {c.n});
      CrossEntropyOptions o;
      o.label_smoothing = c.smoothing;
      o.reduction = c.reduction;
      check_op("cross_entropy", dt, {logits, targets},
               [&](const std::vector<Tensor>& in) { return cross_entropy(in[0], in[1], o); },
               {true, false});
    }
    // [B, T, V] logits, as a language model produces them.
    const Tensor logits = rand({2, 5, 301}, dt, seed++, -3, 3);
    const Tensor targets = randint({2, 5}, 0, 301, seed++);
    check_op("cross_entropy_3d", dt, {logits, targets},
             [&](const std::vector<Tensor>& in) { return cross_entropy(in[0], in[1]); },
             {true, false});
  }
}

}  // namespace
}  // namespace chorus::parity
