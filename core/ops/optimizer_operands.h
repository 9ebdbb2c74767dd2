// Operand handling shared by the fused optimizer ops (fused_adamw.cc, fused_sgd.cc). Internal
// to core/ops.
#pragma once

#include <initializer_list>
#include <utility>

#include "core/tensor/tensor.h"

namespace chorus::ops_internal {

// Checks the operands of an in-place optimizer update and throws naming `op`: param is f32 or
// f64; grad is floating with param's shape; each named state tensor has param's dtype and shape;
// model_param, when defined, is bf16 or f16 with param's shape; everything is on the CPU.
void check_optimizer_operands(const char* op, const Tensor& param, const Tensor& grad,
                              std::initializer_list<std::pair<const char*, const Tensor*>> state,
                              const Tensor& model_param);

// The gradient as a contiguous tensor a kernel can read (f32, f64, bf16 and f16 are read as
// they are; fp8 is converted to `param_dtype` first).
Tensor optimizer_grad(const Tensor& grad, DType param_dtype);

// A contiguous stand-in for a tensor an update writes in place: the tensor itself when it is
// contiguous (the usual case), otherwise a contiguous copy that finish() writes back.
class InPlaceOperand {
 public:
  explicit InPlaceOperand(const Tensor& t);
  const Tensor& work() const { return work_; }
  void finish() const;

 private:
  Tensor target_;
  Tensor work_;
};

}  // namespace chorus::ops_internal
