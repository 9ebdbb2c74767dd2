// Helpers for the alignment tests: the PyTorch/numpy fixture
// (tests/fixtures/align_reference.json, written by tools/fixtures/make_align_fixtures.py).
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/tensor/tensor.h"

namespace chorus::testing {

using json = nlohmann::json;

inline const json& align_fixture() {
  static const json j = [] {
    std::ifstream in(std::string(CHORUS_FIXTURE_DIR) + "/align_reference.json");
    EXPECT_TRUE(in.good()) << "missing fixture; run tools/fixtures/make_align_fixtures.py";
    return json::parse(in);
  }();
  return j;
}

// {"dtype", "shape", "data"} -> Tensor, floating values converted to `dtype`.
inline Tensor fixture_tensor(const json& j, DType dtype = DType::kF32) {
  const auto shape = j.at("shape").get<Shape>();
  const auto data = j.at("data").get<std::vector<double>>();
  if (j.at("dtype") == "i64") return Tensor::from_doubles(data, shape, DType::kI64);
  return Tensor::from_doubles(data, shape, dtype);
}

// A fresh leaf that requires grad, from the fixture.
inline Tensor fixture_leaf(const json& j, DType dtype = DType::kF32) {
  Tensor t = fixture_tensor(j, dtype);
  t.set_requires_grad();
  return t;
}

}  // namespace chorus::testing
