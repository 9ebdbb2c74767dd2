#include "core/ops/optimizer_operands.h"

#include "core/ops/operands.h"

namespace chorus::ops_internal {

void check_optimizer_operands(const char* op, const Tensor& param, const Tensor& grad,
                              std::initializer_list<std::pair<const char*, const Tensor*>> state,
                              const Tensor& model_param) {
  CHORUS_CHECK(param.defined() && grad.defined(), op, ": param and grad must be defined");
  require_same_device(op, {&param, &grad, &model_param});
  CHORUS_CHECK(param.dtype() == DType::kF32 || param.dtype() == DType::kF64, op,
               ": param must be f32 or f64 (keep an f32 master copy of ",
               "low-precision parameters), got ", dtype_name(param.dtype()));
  CHORUS_CHECK(is_floating(grad.dtype()), op, ": grad must be floating, got ",
               dtype_name(grad.dtype()));
  CHORUS_CHECK(grad.shape() == param.shape(), op, ": grad ", shape_str(grad.shape()),
               " does not match param ", shape_str(param.shape()));
  for (const auto& [name, t] : state) {
    CHORUS_CHECK(t->defined(), op, ": ", name, " must be defined");
    require_same_device(op, {&param, t});
    CHORUS_CHECK(t->dtype() == param.dtype() && t->shape() == param.shape(), op, ": ", name, " ",
                 dtype_name(t->dtype()), shape_str(t->shape()), " does not match param ",
                 dtype_name(param.dtype()), shape_str(param.shape()));
  }
  if (model_param.defined()) {
    CHORUS_CHECK(model_param.dtype() == DType::kBF16 || model_param.dtype() == DType::kF16, op,
                 ": model_param must be bf16 or f16, got ", dtype_name(model_param.dtype()));
    CHORUS_CHECK(model_param.shape() == param.shape(), op, ": model_param ",
                 shape_str(model_param.shape()), " does not match param ",
                 shape_str(param.shape()));
  }
}

Tensor optimizer_grad(const Tensor& grad, DType param_dtype) {
  switch (grad.dtype()) {
    case DType::kF32:
    case DType::kF64:
    case DType::kBF16:
    case DType::kF16:
      return contiguous_raw(grad, grad.dtype());
    default:
      return contiguous_raw(grad, param_dtype);
  }
}

InPlaceOperand::InPlaceOperand(const Tensor& t) : target_(t) {
  work_ = (!t.defined() || t.is_contiguous()) ? t : contiguous_raw(t, t.dtype());
}

void InPlaceOperand::finish() const {
  if (work_.defined() && !work_.is_same(target_)) target_.copy_(work_);
}

}  // namespace chorus::ops_internal
