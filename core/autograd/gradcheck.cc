#include "core/autograd/gradcheck.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/autograd/node.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "core/tensor/philox.h"

namespace chorus::autograd {
namespace {

Tensor weighting_for(const Shape& shape, uint64_t seed) {
  const int64_t n = shape_numel(shape);
  std::vector<double> w(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    w[i] = 0.5 + uniform_from_word(philox_word(seed, 0, static_cast<uint64_t>(i)));
  }
  return Tensor::from_vector<double>(w, shape);
}

double weighted_sum(const Tensor& out, const Tensor& w) {
  NoGradGuard guard;
  return sum(mul(out.to(DType::kF64), w)).item();
}

}  // namespace

absl::Status gradcheck(const GradcheckFn& fn, const std::vector<Tensor>& inputs,
                       const GradcheckOptions& options) {
  // Private contiguous leaves so perturbing them cannot touch the caller's data.
  std::vector<Tensor> leaves;
  for (const Tensor& in : inputs) {
    if (!in.defined()) {
      leaves.push_back(in);
      continue;
    }
    Tensor leaf = in.detach().clone().detach();
    if (is_floating(leaf.dtype())) leaf.set_requires_grad(true);
    leaves.push_back(leaf);
  }
  Tensor out = fn(leaves);
  if (!out.requires_grad()) {
    return absl::FailedPreconditionError("gradcheck: the function's output does not require grad");
  }
  const Tensor w = weighting_for(out.shape(), options.seed);
  sum(mul(out.to(DType::kF64), w)).backward();

  for (size_t k = 0; k < leaves.size(); ++k) {
    const Tensor& leaf = leaves[k];
    if (!leaf.defined() || !leaf.requires_grad()) continue;
    Tensor analytic = leaf.grad().defined() ? leaf.grad().to(DType::kF64).contiguous()
                                            : Tensor::zeros(leaf.shape(), DType::kF64);
    const double* ga = analytic.data<double>();
    const int64_t n = leaf.numel();
    for (int64_t i = 0; i < n; ++i) {
      // Perturb element i in place (leaf data is private), evaluate, restore.
      Tensor flat = leaf.detach().as_strided({n}, {1}, leaf.offset());
      Tensor elem = flat.as_strided({1}, {1}, leaf.offset() + i);
      const double x = elem.item();
      std::vector<Tensor> args = leaves;
      elem.fill_(x + options.eps);
      const double plus = weighted_sum(fn(args), w);
      elem.fill_(x - options.eps);
      const double minus = weighted_sum(fn(args), w);
      elem.fill_(x);
      const double numeric = (plus - minus) / (2 * options.eps);
      const double diff = std::fabs(numeric - ga[i]);
      if (!(diff <= options.atol + options.rtol * std::fabs(numeric))) {
        return absl::InternalError(absl::StrCat("gradcheck: input ", k, " element ", i,
                                                ": analytic ", ga[i], " vs numeric ", numeric,
                                                " (|diff| ", diff, ")"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace chorus::autograd
