// softmax, log_softmax, layer_norm, rms_norm and cross_entropy against values computed by
// PyTorch 1.13 (tools/fixtures/nn_reference.py writes tests/fixtures/nn_reference.json; every
// case carries its own inputs, so no random generator is shared with Python).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/ops/loss.h"
#include "core/ops/normalization.h"
#include "core/ops/softmax.h"
#include "test_util.h"

namespace chorus {
namespace {

using nlohmann::json;
using testing::AllClose;

const json& reference() {
  static const json data = [] {
    std::ifstream in(std::string(CHORUS_FIXTURE_DIR) + "/nn_reference.json");
    EXPECT_TRUE(in.good())
        << "missing fixture: run /usr/bin/python3 tools/fixtures/nn_reference.py";
    return json::parse(in);
  }();
  return data;
}

// A JSON list of numbers (null = -inf) as a tensor.
Tensor tensor_of(const json& values, const Shape& shape, DType dtype = DType::kF64) {
  std::vector<double> v;
  for (const json& e : values) {
    v.push_back(e.is_null() ? -std::numeric_limits<double>::infinity() : e.get<double>());
  }
  return Tensor::from_doubles(v, shape, dtype);
}

Shape shape_of(const json& j) { return j.get<Shape>(); }

// AllClose that also accepts equal infinities (test_util's AllClose sees inf - inf = NaN).
::testing::AssertionResult AllCloseInf(const Tensor& a, const Tensor& b, double atol, double rtol) {
  auto finite = [&](const Tensor& t, const Tensor& other) {
    auto v = t.to_vector<double>();
    const auto o = other.to_vector<double>();
    for (size_t i = 0; i < v.size() && i < o.size(); ++i) {
      if (std::isinf(v[i]) && v[i] == o[i]) v[i] = 0;
    }
    return Tensor::from_doubles(v, t.shape(), DType::kF64);
  };
  return AllClose(finite(a, b), finite(b, a), atol, rtol);
}

// Runs `fn` on f64 copies of `inputs` that require grad, backpropagates `grad_out`, and
// returns the gradients (undefined for undefined inputs).
template <class Fn>
std::vector<Tensor> grads_of(Fn fn, std::vector<Tensor> inputs, const Tensor& grad_out) {
  for (Tensor& t : inputs) {
    if (t.defined()) t.set_requires_grad(true);
  }
  fn(inputs).backward(grad_out);
  std::vector<Tensor> grads;
  for (const Tensor& t : inputs) grads.push_back(t.defined() ? t.grad() : Tensor());
  return grads;
}

TEST(NnReference, FixtureIsPresent) {
  ASSERT_TRUE(reference().contains("softmax"));
  EXPECT_GE(reference()["cross_entropy"].size(), 6u);
}

TEST(NnReference, SoftmaxAndLogSoftmax) {
  for (const json& c : reference()["softmax"]) {
    const Shape shape = shape_of(c["shape"]);
    const int64_t dim = c["dim"];
    Tensor x = tensor_of(c["x"], shape);
    Tensor sm = tensor_of(c["softmax"], shape), lsm = tensor_of(c["log_softmax"], shape);
    EXPECT_TRUE(AllClose(softmax(x, dim), sm, 1e-14, 1e-12)) << shape_str(shape);
    EXPECT_TRUE(AllCloseInf(log_softmax(x, dim), lsm, 1e-13, 1e-12)) << shape_str(shape);
    Tensor xf = x.to(DType::kF32);
    EXPECT_TRUE(AllClose(softmax(xf, dim), sm, 1e-6, 1e-5)) << shape_str(shape);
    EXPECT_TRUE(AllCloseInf(log_softmax(xf, dim), lsm, 1e-5, 1e-5)) << shape_str(shape);
  }
}

TEST(NnReference, LayerNormForwardAndGradients) {
  for (const json& c : reference()["layer_norm"]) {
    const Shape shape = shape_of(c["shape"]), nshape = shape_of(c["normalized_shape"]);
    const double eps = c["eps"];
    Tensor x = tensor_of(c["x"], shape);
    Tensor w = c["weight"].is_null() ? Tensor() : tensor_of(c["weight"], nshape);
    Tensor b = c["bias"].is_null() ? Tensor() : tensor_of(c["bias"], nshape);
    Tensor y = tensor_of(c["y"], shape);
    EXPECT_TRUE(AllClose(layer_norm(x, nshape, w, b, eps), y, 1e-12, 1e-10)) << shape_str(shape);
    Tensor yf = layer_norm(x.to(DType::kF32), nshape, w.defined() ? w.to(DType::kF32) : w,
                           b.defined() ? b.to(DType::kF32) : b, eps);
    EXPECT_TRUE(AllClose(yf, y, 1e-5, 1e-5)) << shape_str(shape);

    auto grads = grads_of(
        [&](const std::vector<Tensor>& v) { return layer_norm(v[0], nshape, v[1], v[2], eps); },
        {x.clone(), w.defined() ? w.clone() : w, b.defined() ? b.clone() : b},
        tensor_of(c["grad_out"], shape));
    EXPECT_TRUE(AllClose(grads[0], tensor_of(c["grad_x"], shape), 1e-11, 1e-9));
    if (w.defined()) {
      EXPECT_TRUE(AllClose(grads[1], tensor_of(c["grad_weight"], nshape), 1e-11, 1e-9));
      EXPECT_TRUE(AllClose(grads[2], tensor_of(c["grad_bias"], nshape), 1e-11, 1e-9));
    }
  }
}

TEST(NnReference, RmsNormForwardAndGradients) {
  for (const json& c : reference()["rms_norm"]) {
    const Shape shape = shape_of(c["shape"]);
    const double eps = c["eps"];
    Tensor x = tensor_of(c["x"], shape);
    Tensor w = c["weight"].is_null() ? Tensor() : tensor_of(c["weight"], {shape.back()});
    Tensor y = tensor_of(c["y"], shape);
    EXPECT_TRUE(AllClose(rms_norm(x, w, eps), y, 1e-12, 1e-10)) << shape_str(shape);
    EXPECT_TRUE(AllClose(rms_norm(x.to(DType::kF32), w.defined() ? w.to(DType::kF32) : w, eps), y,
                         1e-5, 1e-5));
    auto grads =
        grads_of([&](const std::vector<Tensor>& v) { return rms_norm(v[0], v[1], eps); },
                 {x.clone(), w.defined() ? w.clone() : w}, tensor_of(c["grad_out"], shape));
    EXPECT_TRUE(AllClose(grads[0], tensor_of(c["grad_x"], shape), 1e-11, 1e-9));
    if (w.defined()) {
      EXPECT_TRUE(AllClose(grads[1], tensor_of(c["grad_weight"], {shape.back()}), 1e-11, 1e-9));
    }
  }
}

TEST(NnReference, CrossEntropyWithIgnoreIndexAndLabelSmoothing) {
  for (const json& c : reference()["cross_entropy"]) {
    const Shape shape = shape_of(c["logits_shape"]);
    Tensor logits = tensor_of(c["logits"], shape);
    Tensor targets =
        Tensor::from_vector<int64_t>(c["targets"].get<std::vector<int64_t>>(), {shape[0]});
    CrossEntropyOptions o;
    o.ignore_index = c["ignore_index"];
    o.label_smoothing = c["label_smoothing"];
    const std::string red = c["reduction"];
    o.reduction = red == "none"  ? Reduction::kNone
                  : red == "sum" ? Reduction::kSum
                                 : Reduction::kMean;
    const Shape out_shape = red == "none" ? Shape{shape[0]} : Shape{};
    const std::string what = red + " smoothing " + std::to_string(o.label_smoothing);
    Tensor loss = tensor_of(c["loss"], out_shape);
    EXPECT_TRUE(AllClose(cross_entropy(logits, targets, o), loss, 1e-12, 1e-10)) << what;
    EXPECT_TRUE(AllClose(cross_entropy(logits.to(DType::kF32), targets, o), loss, 1e-5, 1e-5))
        << what;
    auto grads =
        grads_of([&](const std::vector<Tensor>& v) { return cross_entropy(v[0], targets, o); },
                 {logits.clone()}, tensor_of(c["grad_out"], out_shape));
    EXPECT_TRUE(AllClose(grads[0], tensor_of(c["grad_logits"], shape), 1e-12, 1e-10)) << what;
  }
}

}  // namespace
}  // namespace chorus
