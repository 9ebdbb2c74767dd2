#include "core/ops/fused_adamw.h"

#include <cmath>

#include "core/ops/cpu/adamw_kernels.h"
#include "core/ops/kernel_dispatch.h"
#include "core/ops/optimizer_operands.h"

namespace chorus {

void fused_adamw_(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                  const Tensor& exp_avg_sq, const AdamWStep& h, const Tensor& model_param) {
  ops_internal::check_optimizer_operands("fused_adamw_", param, grad,
                                         {{"exp_avg", &exp_avg}, {"exp_avg_sq", &exp_avg_sq}},
                                         model_param);
  CHORUS_CHECK(h.step >= 1, "fused_adamw_: step must be >= 1, got ", h.step);
  CHORUS_CHECK(h.beta1 >= 0 && h.beta1 < 1 && h.beta2 >= 0 && h.beta2 < 1,
               "fused_adamw_: betas must be in [0, 1), got (", h.beta1, ", ", h.beta2, ")");
  if (param.numel() == 0) return;

  // Bias corrections depend only on the step: computed once here in double, not per element.
  const double steps = static_cast<double>(h.step);
  cpu::AdamWScalars s;
  s.decay = 1.0 - h.lr * h.weight_decay;
  s.beta1 = h.beta1;
  s.beta2 = h.beta2;
  s.step_size = h.lr / (1.0 - std::pow(h.beta1, steps));
  s.bias_correction2_sqrt = std::sqrt(1.0 - std::pow(h.beta2, steps));
  s.eps = h.eps;

  const ops_internal::InPlaceOperand p(param), m(exp_avg), v(exp_avg_sq), model(model_param);
  CHORUS_KERNEL(cpu::adamw_kernel)
  (p.work(), ops_internal::optimizer_grad(grad, param.dtype()), m.work(), v.work(), s,
   model.work());
  p.finish();
  m.finish();
  v.finish();
  model.finish();
}

}  // namespace chorus
