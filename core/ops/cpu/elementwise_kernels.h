// CPU kernels behind core/ops/elementwise.h. Operands arrive already broadcast to the output
// shape (stride-0 dims) and converted to the compute dtype (f32 or f64); the output is a
// fresh contiguous tensor of that dtype.
#pragma once

#include "core/tensor/tensor.h"

namespace chorus::cpu {

enum class BinaryOp { kAdd, kSub, kMul, kDiv, kPow, kMax, kMin, kEq, kNe, kLt, kLe, kGt, kGe };
enum class UnaryOp {
  kNeg,
  kAbs,
  kExp,
  kLog,
  kSqrt,
  kRsqrt,
  kSquare,
  kTanh,
  kSigmoid,
  kRelu,
  kGelu,
  kGeluTanh,
  kSilu,
  kSign,
  kClamp,
  kNot,
  kGeluGrad,
  kGeluTanhGrad,  // derivatives, for backward
};

void binary_kernel(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b);
// alpha/beta parametrise kClamp (lo, hi).
void unary_kernel(UnaryOp op, const Tensor& out, const Tensor& x, double alpha = 0,
                  double beta = 0);
void where_kernel(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b);

}  // namespace chorus::cpu
