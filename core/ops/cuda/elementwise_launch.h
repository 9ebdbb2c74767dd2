// Launchers of the elementwise kernels. Op codes mirror cpu::BinaryOp / cpu::UnaryOp
// (elementwise.cc asserts that they match).
#pragma once

#include "core/ops/cuda/launch.h"

namespace chorus::cuda {

enum BinaryCode : int {
  kBinAdd,
  kBinSub,
  kBinMul,
  kBinDiv,
  kBinPow,
  kBinMax,
  kBinMin,
  kBinEq,
  kBinNe,
  kBinLt,
  kBinLe,
  kBinGt,
  kBinGe
};
enum UnaryCode : int {
  kUnNeg,
  kUnAbs,
  kUnExp,
  kUnLog,
  kUnSqrt,
  kUnRsqrt,
  kUnSquare,
  kUnTanh,
  kUnSigmoid,
  kUnRelu,
  kUnGelu,
  kUnGeluTanh,
  kUnSilu,
  kUnSign,
  kUnClamp,
  kUnNot,
  kUnGeluGrad,
  kUnGeluTanhGrad
};

// `dtype`: the operands' dtype (the output's too, except comparisons, which write bool): f32,
// f64, or bf16/f16 (computed in f32).
void launch_binary(int op, DType dtype, const Geometry& geo, const Operand& out, const Operand& a,
                   const Operand& b, StreamHandle stream);
void launch_unary(int op, DType dtype, const Geometry& geo, const Operand& out, const Operand& x,
                  double lo, double hi, StreamHandle stream);
void launch_where(bool f64, const Geometry& geo, const Operand& out, const Operand& cond,
                  const Operand& a, const Operand& b, StreamHandle stream);

}  // namespace chorus::cuda
