#include "core/optim/clip.h"

#include <cmath>

#include "core/autograd/node.h"
#include "core/ops/grad_clip.h"

namespace chorus::optim {

double grad_norm(const std::vector<Tensor>& params, double norm_type) {
  CHORUS_CHECK(norm_type > 0, "grad_norm: norm_type must be > 0 (or inf), got ", norm_type);
  const bool inf = std::isinf(norm_type);
  // One accumulator per device, read once at the end: on a GPU the partial sums stay there
  // (a read per parameter would wait for the device ~150 times per step).
  std::vector<Tensor> accs;
  for (const Tensor& p : params) {
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    Tensor* acc = nullptr;
    for (Tensor& a : accs) {
      if (a.device() == g.device()) acc = &a;
    }
    if (acc == nullptr) acc = &accs.emplace_back(Tensor::zeros({1}, DType::kF64, g.device()));
    abs_pow_sum_accumulate(*acc, g, norm_type);
  }
  double acc = 0.0;
  for (const Tensor& a : accs) {
    const double part = a.item();
    acc = !inf ? acc + part : (std::isnan(part) || part > acc) ? part : acc;
  }
  if (inf || norm_type == 1.0) return acc;
  if (norm_type == 2.0) return std::sqrt(acc);
  return std::pow(acc, 1.0 / norm_type);
}

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type,
                      bool error_if_nonfinite) {
  CHORUS_CHECK(max_norm >= 0, "clip_grad_norm: max_norm must be >= 0, got ", max_norm);
  autograd::NoGradGuard no_grad;
  const double total = grad_norm(params, norm_type);
  if (!std::isfinite(total)) {
    CHORUS_CHECK(!error_if_nonfinite, "clip_grad_norm: the total norm of order ", norm_type,
                 " of the gradients is ", total);
    return total;
  }
  if (total > max_norm) {
    const double coef = max_norm / (total + 1e-6);
    for (const Tensor& p : params) {
      const Tensor g = p.grad();
      if (g.defined()) scale_(g, coef);
    }
  }
  return total;
}

double clip_grad_norm(const NamedTensors& params, double max_norm, double norm_type,
                      bool error_if_nonfinite) {
  std::vector<Tensor> tensors;
  for (const auto& [_, p] : params) tensors.push_back(p);
  return clip_grad_norm(tensors, max_norm, norm_type, error_if_nonfinite);
}

double clip_grad_norm(const Optimizer& optimizer, double max_norm, double norm_type,
                      bool error_if_nonfinite) {
  std::vector<Tensor> tensors;
  for (int64_t g = 0; g < optimizer.num_groups(); ++g) {
    for (const auto& [_, p] : optimizer.params(g)) tensors.push_back(p);
  }
  return clip_grad_norm(tensors, max_norm, norm_type, error_if_nonfinite);
}

}  // namespace chorus::optim
