#include "core/ops/cpu/adamw_kernels.h"

#include <cmath>

#include "core/ops/cpu/optimizer_access.h"
#include "core/tensor/dispatch.h"
#include "core/tensor/parallel.h"

namespace chorus::cpu {
namespace {

template <class T>
void adamw_typed(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                 const Tensor& exp_avg_sq, const AdamWScalars& s, const Tensor& model_param) {
  T* p = static_cast<T*>(param.raw_data());
  T* m = static_cast<T*>(exp_avg.raw_data());
  T* v = static_cast<T*>(exp_avg_sq.raw_data());
  // Scalars are rounded to the compute type once, as PyTorch does when it applies a Python
  // float to a float tensor; the per-element order of operations follows torch.optim.AdamW
  // (single-tensor path) so trajectories agree to rounding.
  const T decay = static_cast<T>(s.decay);
  const T beta1 = static_cast<T>(s.beta1), one_minus_beta1 = static_cast<T>(1.0 - s.beta1);
  const T beta2 = static_cast<T>(s.beta2), one_minus_beta2 = static_cast<T>(1.0 - s.beta2);
  const T neg_step_size = static_cast<T>(-s.step_size);
  const T bc2_sqrt = static_cast<T>(s.bias_correction2_sqrt);
  const T eps = static_cast<T>(s.eps);
  optim_access::with_grad_loader<T>(grad, [&](auto load_grad) {
    optim_access::with_model_store<T>(model_param, [&](auto store_model) {
      parallel_for(0, param.numel(), optim_access::kOptimizerGrain, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) {
          const T g = load_grad(i);
          T pi = p[i] * decay;  // decoupled weight decay, before the moment step
          const T mi = m[i] * beta1 + one_minus_beta1 * g;
          const T vi = v[i] * beta2 + one_minus_beta2 * g * g;
          const T denom = std::sqrt(vi) / bc2_sqrt + eps;
          pi = pi + neg_step_size * mi / denom;
          m[i] = mi;
          v[i] = vi;
          p[i] = pi;
          store_model(i, pi);
        }
      });
    });
  });
}

}  // namespace

void adamw_kernel(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                  const Tensor& exp_avg_sq, const AdamWScalars& s, const Tensor& model_param) {
  CHORUS_DISPATCH_FLOAT(param.dtype(), T,
                        [&] { adamw_typed<T>(param, grad, exp_avg, exp_avg_sq, s, model_param); });
}

}  // namespace chorus::cpu
