#include "core/ops/fused_sgd.h"

#include "core/ops/cpu/sgd_kernels.h"
#include "core/ops/kernel_dispatch.h"
#include "core/ops/optimizer_operands.h"

namespace chorus {

void fused_sgd_(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
                const SGDStep& h, const Tensor& model_param) {
  const bool use_momentum = h.momentum != 0.0;
  if (use_momentum) {
    ops_internal::check_optimizer_operands("fused_sgd_", param, grad,
                                           {{"momentum_buffer", &momentum_buffer}}, model_param);
  } else {
    ops_internal::check_optimizer_operands("fused_sgd_", param, grad, {}, model_param);
  }
  CHORUS_CHECK(!h.nesterov || (h.momentum > 0 && h.dampening == 0),
               "fused_sgd_: nesterov needs momentum > 0 and dampening 0, got momentum ", h.momentum,
               ", dampening ", h.dampening);
  if (param.numel() == 0) return;

  const cpu::SGDScalars s{h.lr, h.momentum, h.dampening, h.weight_decay, h.nesterov, h.init_buffer};
  const ops_internal::InPlaceOperand p(param), model(model_param);
  const ops_internal::InPlaceOperand buf(use_momentum ? momentum_buffer : Tensor());
  CHORUS_KERNEL(cpu::sgd_kernel)
  (p.work(), ops_internal::optimizer_grad(grad, param.dtype()), buf.work(), s, model.work());
  p.finish();
  buf.finish();
  model.finish();
}

}  // namespace chorus
