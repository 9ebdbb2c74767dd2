// Helpers for the optimizer tests: the PyTorch fixture, bitwise comparison, a small module.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/nn/module.h"
#include "core/tensor/tensor.h"

namespace chorus::testing {

using json = nlohmann::json;

// tests/fixtures/optim_reference.json's "cases" (written by tools/fixtures/optim_reference.py).
inline const json& optim_cases() {
  static const json j = [] {
    std::ifstream in(std::string(CHORUS_FIXTURE_DIR) + "/optim_reference.json");
    EXPECT_TRUE(in.good()) << "missing fixture; run tools/fixtures/optim_reference.py";
    return json::parse(in);
  }();
  return j.at("cases");
}

// {"dtype", "shape", "data"} -> Tensor.
inline Tensor load_tensor(const json& j) {
  const DType dtype = *dtype_from_name(j.at("dtype").get<std::string>());
  return Tensor::from_doubles(j.at("data").get<std::vector<double>>(), j.at("shape").get<Shape>(),
                              dtype);
}

// The raw bytes of a tensor, for bit-exact comparisons.
inline std::vector<uint8_t> bits(const Tensor& t) {
  const Tensor c = t.contiguous();
  std::vector<uint8_t> out(c.nbytes());
  if (!out.empty()) std::memcpy(out.data(), c.raw_data(), out.size());
  return out;
}

inline ::testing::AssertionResult SameBits(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) {
    return ::testing::AssertionFailure() << a.ToString() << " vs " << b.ToString();
  }
  if (bits(a) != bits(b)) {
    const auto va = a.to_vector<double>(), vb = b.to_vector<double>();
    for (size_t i = 0; i < va.size(); ++i) {
      if (std::memcmp(&va[i], &vb[i], sizeof(double)) != 0) {
        return ::testing::AssertionFailure()
               << "bits differ at element " << i << ": " << va[i] << " vs " << vb[i];
      }
    }
    return ::testing::AssertionFailure() << "bits differ";
  }
  return ::testing::AssertionSuccess();
}

// A module shaped like a small transformer block's parameters: a linear layer (weight, bias),
// a norm (weight, bias: rank 1), stacked expert weights and biases (rank 3 and 2).
class TinyBlock : public nn::Module {
 public:
  explicit TinyBlock(DType dtype = DType::kF32) : Module("TinyBlock") {
    auto make = [&](const Shape& shape, double scale, uint64_t seed) {
      const int64_t n = shape_numel(shape);
      std::vector<double> v(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) v[i] = scale * std::sin(0.7 * (i + 1) + 1.3 * seed);
      return Tensor::from_doubles(v, shape, dtype);
    };
    proj_weight = register_parameter("proj_weight", make({4, 3}, 0.5, 1));
    proj_bias = register_parameter("bias", make({4}, 0.1, 2));
    norm_weight = register_parameter("norm_scale", make({3}, 1.0, 3));
    experts_w = register_parameter("experts_w1", make({2, 3, 5}, 0.3, 4));
    experts_b = register_parameter("experts_bias", make({2, 5}, 0.2, 5));
    frozen = register_parameter("frozen", make({2, 2}, 1.0, 6), /*requires_grad=*/false);
  }
  Tensor proj_weight, proj_bias, norm_weight, experts_w, experts_b, frozen;
};

// Sets every trainable parameter's gradient to a deterministic function of (step, index).
inline void set_grads(const nn::NamedTensors& params, int64_t step, DType dtype = DType::kF32) {
  uint64_t k = 0;
  for (const auto& [_, p] : params) {
    std::vector<double> v(static_cast<size_t>(p.numel()));
    for (size_t i = 0; i < v.size(); ++i) v[i] = std::cos(0.37 * (i + 1) * (step + 2) + k);
    p.set_grad(Tensor::from_doubles(v, p.shape(), dtype));
    ++k;
  }
}

}  // namespace chorus::testing
