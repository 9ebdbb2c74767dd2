#include "core/ops/cpu/sgd_kernels.h"

#include "core/ops/cpu/optimizer_access.h"
#include "core/tensor/dispatch.h"
#include "core/tensor/parallel.h"

namespace chorus::cpu {
namespace {

template <class T>
void sgd_typed(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
               const SGDScalars& s, const Tensor& model_param) {
  T* p = static_cast<T*>(param.raw_data());
  T* buf = momentum_buffer.defined() ? static_cast<T*>(momentum_buffer.raw_data()) : nullptr;
  const T neg_lr = static_cast<T>(-s.lr);
  const T wd = static_cast<T>(s.weight_decay);
  const T mu = static_cast<T>(s.momentum);
  const T one_minus_dampening = static_cast<T>(1.0 - s.dampening);
  const bool use_wd = s.weight_decay != 0.0;
  const bool use_momentum = s.momentum != 0.0;
  optim_access::with_grad_loader<T>(grad, [&](auto load_grad) {
    optim_access::with_model_store<T>(model_param, [&](auto store_model) {
      parallel_for(0, param.numel(), optim_access::kOptimizerGrain, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) {
          // torch.optim.SGD: d_p = g + wd*p; buf = mu*buf + (1-dampening)*d_p (buf = d_p on
          // the first step); d_p = nesterov ? d_p + mu*buf : buf; p -= lr*d_p.
          T d = load_grad(i);
          if (use_wd) d = d + wd * p[i];
          if (use_momentum) {
            const T b = s.init_buffer ? d : buf[i] * mu + one_minus_dampening * d;
            buf[i] = b;
            d = s.nesterov ? d + mu * b : b;
          }
          const T pi = p[i] + neg_lr * d;
          p[i] = pi;
          store_model(i, pi);
        }
      });
    });
  });
}

}  // namespace

void sgd_kernel(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
                const SGDScalars& s, const Tensor& model_param) {
  CHORUS_DISPATCH_FLOAT(param.dtype(), T,
                        [&] { sgd_typed<T>(param, grad, momentum_buffer, s, model_param); });
}

}  // namespace chorus::cpu
