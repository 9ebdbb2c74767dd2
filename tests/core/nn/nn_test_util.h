// Helpers for the nn tests: a gradient check over a module's parameters (gradcheck() in
// core/autograd only sees the function's inputs, and a module's parameters are members),
// bitwise tensor equality, and a scratch directory.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/autograd/node.h"
#include "core/nn/module.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "test_util.h"

namespace chorus::testing {

// Central differences of L = Σ fn() ⊙ W (W fixed, in [0.5, 1.5)) against the analytic gradient,
// for every element of every parameter of `module` and of every tensor in `leaves` (f64
// leaves that fn reads and that require grad). fn must be deterministic.
inline ::testing::AssertionResult ModuleGradcheck(nn::Module& module,
                                                  const std::function<Tensor()>& fn,
                                                  const std::vector<Tensor>& leaves = {},
                                                  double eps = 1e-6, double atol = 1e-6,
                                                  double rtol = 1e-4) {
  std::vector<std::pair<std::string, Tensor>> checked = module.named_parameters();
  for (size_t i = 0; i < leaves.size(); ++i)
    checked.emplace_back("leaf" + std::to_string(i), leaves[i]);
  for (auto& [name, t] : checked) {
    if (t.dtype() != DType::kF64 || !t.is_contiguous())
      return ::testing::AssertionFailure() << name << " is not a contiguous f64 tensor";
    t.set_grad(Tensor());
  }
  Tensor out = fn();
  const Tensor w = uniform(out.shape(), 0.5, 1.5, DType::kF64, 4242);
  sum(mul(out, w)).backward();
  auto loss = [&] {
    autograd::NoGradGuard no_grad;
    return sum(mul(fn(), w)).item();
  };
  for (auto& [name, t] : checked) {
    const Tensor g =
        t.grad().defined() ? t.grad().contiguous() : Tensor::zeros(t.shape(), DType::kF64);
    const std::vector<double> analytic = g.to_vector<double>();
    double* p = t.data<double>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      const double x = p[i];
      p[i] = x + eps;
      const double plus = loss();
      p[i] = x - eps;
      const double minus = loss();
      p[i] = x;
      const double numeric = (plus - minus) / (2 * eps);
      if (!(std::fabs(numeric - analytic[i]) <= atol + rtol * std::fabs(numeric))) {
        return ::testing::AssertionFailure()
               << name << "[" << i << "]: analytic " << analytic[i] << " vs numeric " << numeric;
      }
    }
  }
  return ::testing::AssertionSuccess();
}

// Same shape, dtype and bytes.
inline ::testing::AssertionResult BitwiseEqual(const Tensor& a, const Tensor& b) {
  if (a.defined() != b.defined()) return ::testing::AssertionFailure() << "one is undefined";
  if (!a.defined()) return ::testing::AssertionSuccess();
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) {
    return ::testing::AssertionFailure() << a.ToString() << " vs " << b.ToString();
  }
  const Tensor ca = a.contiguous(), cb = b.contiguous();
  if (std::memcmp(ca.raw_data(), cb.raw_data(), ca.nbytes()) != 0) {
    const auto va = ca.to_vector<double>(), vb = cb.to_vector<double>();
    for (size_t i = 0; i < va.size(); ++i) {
      if (std::memcmp(&va[i], &vb[i], sizeof(double)) != 0)
        return ::testing::AssertionFailure() << "element " << i << ": " << va[i] << " vs " << vb[i];
    }
    return ::testing::AssertionFailure() << "bytes differ";
  }
  return ::testing::AssertionSuccess();
}

// A temporary directory removed with everything in it when the object goes.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "chorus_nn_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << pattern;
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace chorus::testing
