// Helpers shared by the GoogleTest suites: seeded random tensors, closeness checks, and a
// gradcheck assertion.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/autograd/gradcheck.h"
#include "core/tensor/philox.h"
#include "core/tensor/tensor.h"

namespace chorus::testing {

// Deterministic values uniform in [lo, hi), as `dtype` (default f64 for gradchecks).
inline Tensor uniform(const Shape& shape, double lo = -1.0, double hi = 1.0,
                      DType dtype = DType::kF64, uint64_t seed = 7) {
  const int64_t n = shape_numel(shape);
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    v[i] = lo + (hi - lo) * uniform_from_word(philox_word(seed, 99, static_cast<uint64_t>(i)));
  }
  return Tensor::from_doubles(v, shape, dtype);
}

// Asserts that two tensors have the same shape and |a-b| <= atol + rtol*|b| elementwise.
inline ::testing::AssertionResult AllClose(const Tensor& a, const Tensor& b, double atol = 1e-5,
                                           double rtol = 1e-5) {
  if (a.shape() != b.shape()) {
    return ::testing::AssertionFailure()
           << "shapes differ: " << shape_str(a.shape()) << " vs " << shape_str(b.shape());
  }
  const auto va = a.to_vector<double>(), vb = b.to_vector<double>();
  for (size_t i = 0; i < va.size(); ++i) {
    const double diff = std::fabs(va[i] - vb[i]);
    const bool both_nan = std::isnan(va[i]) && std::isnan(vb[i]);
    if (!both_nan && !(diff <= atol + rtol * std::fabs(vb[i]))) {
      return ::testing::AssertionFailure()
             << "element " << i << ": " << va[i] << " vs " << vb[i] << " (|diff| " << diff << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

inline Tensor from(const std::vector<double>& values, const Shape& shape,
                   DType dtype = DType::kF64) {
  return Tensor::from_doubles(values, shape, dtype);
}

}  // namespace chorus::testing

// EXPECT_GRADCHECK(fn, {inputs...}) with fn: (const std::vector<Tensor>&) -> Tensor.
#define EXPECT_GRADCHECK(fn, ...)                                  \
  do {                                                             \
    auto _status = ::chorus::autograd::gradcheck(fn, __VA_ARGS__); \
    EXPECT_TRUE(_status.ok()) << _status.message();                \
  } while (0)
