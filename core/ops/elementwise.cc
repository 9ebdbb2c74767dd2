// Front-ends of the elementwise ops: shape/dtype rules, kernel dispatch, backward formulas.
#include "core/ops/elementwise.h"

#include <cmath>
#include <limits>

#include "core/autograd/node.h"
#include "core/ops/cpu/elementwise_kernels.h"
#include "core/ops/device_dtype.h"
#include "core/ops/kernel_dispatch.h"
#include "core/ops/operands.h"
#include "core/ops/reduce.h"

namespace chorus {

using autograd::Grads;
using cpu::BinaryOp;
using cpu::UnaryOp;
using ops_internal::broadcast_raw;
using ops_internal::kernel_dtype;

namespace {

int float_rank(DType d) {
  switch (d) {
    case DType::kF64:
      return 5;
    case DType::kF32:
      return 4;
    case DType::kBF16:
    case DType::kF16:
      return 3;
    case DType::kF8E4M3:
    case DType::kF8E5M2:
      return 2;
    default:
      return 0;
  }
}

int int_rank(DType d) {
  switch (d) {
    case DType::kI64:
      return 4;
    case DType::kI32:
      return 3;
    case DType::kI8:
    case DType::kU8:
      return 2;
    case DType::kBool:
      return 1;
    default:
      return 0;
  }
}

bool is_comparison(BinaryOp op) {
  return op == BinaryOp::kEq || op == BinaryOp::kNe || op == BinaryOp::kLt || op == BinaryOp::kLe ||
         op == BinaryOp::kGt || op == BinaryOp::kGe;
}

// Computes op(a, b) without recording.
Tensor binary_raw(BinaryOp op, const Tensor& a, const Tensor& b) {
  const Device device = ops_internal::common_device("elementwise op", {&a, &b});
  const DType result = promote_types(a.dtype(), b.dtype());
  // bf16/f16 stay as they are on CUDA (its kernels widen per element); the CPU widens.
  const DType compute = ops_internal::device_kernel_dtype(result, device);
  const Shape shape = broadcast_shapes(a.shape(), b.shape());
  const bool cmp = is_comparison(op);
  Tensor out = Tensor::empty(shape, cmp ? DType::kBool : compute, device);
  CHORUS_KERNEL(cpu::binary_kernel)
  (op, out, broadcast_raw(ops_internal::to_device_raw(a, device), shape, compute),
   broadcast_raw(ops_internal::to_device_raw(b, device), shape, compute));
  if (!cmp && result != compute) return ops_internal::cast_raw(out, result);
  return out;
}

Tensor unary_raw(UnaryOp op, const Tensor& x, double alpha = 0, double beta = 0) {
  ops_internal::require_same_device("elementwise op", {&x});
  const DType compute = ops_internal::device_kernel_dtype(x.dtype(), x.device());
  const bool logical = op == UnaryOp::kNot;
  Tensor out = Tensor::empty(x.shape(), logical ? DType::kBool : compute, x.device());
  CHORUS_KERNEL(cpu::unary_kernel)(op, out, ops_internal::cast_raw(x, compute), alpha, beta);
  if (!logical && out.dtype() != x.dtype()) {
    // Integer inputs of float-valued functions (exp, sqrt, ...) give f32, like PyTorch.
    const DType result = is_floating(x.dtype()) ? x.dtype() : DType::kF32;
    return ops_internal::cast_raw(out, result);
  }
  return out;
}

Tensor scalar_like(double v, const Tensor& t) {
  return Tensor::full({}, v, is_floating(t.dtype()) ? t.dtype() : DType::kF64, t.device());
}

}  // namespace

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  const int fa = float_rank(a), fb = float_rank(b);
  if (fa || fb) {
    if (fa == fb) return DType::kF32;  // bf16+f16, or the two fp8 formats
    return fa > fb ? a : b;
  }
  if (a == DType::kI8 && b == DType::kU8) return DType::kI32;
  if (a == DType::kU8 && b == DType::kI8) return DType::kI32;
  return int_rank(a) >= int_rank(b) ? a : b;
}

// ---------------------------------------------------------------- binary

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(BinaryOp::kAdd, a, b);
  autograd::record("add", {a, b}, {out}, [sa = a.shape(), sb = b.shape()](const Grads& g) {
    return Grads{sum_to(g[0], sa), sum_to(g[0], sb)};
  });
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(BinaryOp::kSub, a, b);
  autograd::record("sub", {a, b}, {out}, [sa = a.shape(), sb = b.shape()](const Grads& g) {
    return Grads{sum_to(g[0], sa), sum_to(neg(g[0]), sb)};
  });
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(BinaryOp::kMul, a, b);
  autograd::record("mul", {a, b}, {out}, [da = a.detach(), db = b.detach()](const Grads& g) {
    return Grads{sum_to(mul(g[0], db), da.shape()), sum_to(mul(g[0], da), db.shape())};
  });
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(BinaryOp::kDiv, a, b);
  autograd::record("div", {a, b}, {out}, [da = a.detach(), db = b.detach()](const Grads& g) {
    Tensor ga = div(g[0], db);
    Tensor gb = neg(div(mul(ga, da), db));  // -g * a / b^2
    return Grads{sum_to(ga, da.shape()), sum_to(gb, db.shape())};
  });
  return out;
}

Tensor pow(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(BinaryOp::kPow, a, b);
  autograd::record("pow", {a, b}, {out},
                   [da = a.detach(), db = b.detach(), dout = out.detach()](const Grads& g) {
                     Tensor ga = mul(g[0], mul(db, pow(da, sub(db, 1.0))));
                     // d/db a^b = a^b * log(a); defined as 0 where a == 0 (as PyTorch does).
                     Tensor log_a =
                         where(eq(da, 0.0), Tensor::zeros({}, da.dtype(), da.device()), log(da));
                     Tensor gb = mul(g[0], mul(dout, log_a));
                     return Grads{sum_to(ga, da.shape()), sum_to(gb, db.shape())};
                   });
  return out;
}

namespace {
Tensor min_max(BinaryOp op, const char* name, const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(op, a, b);
  autograd::record(name, {a, b}, {out}, [op, da = a.detach(), db = b.detach()](const Grads& g) {
    // The gradient goes to the selected operand; ties split it evenly (as PyTorch does).
    Tensor a_wins = op == BinaryOp::kMax ? gt(da, db) : lt(da, db);
    Tensor tie = eq(da, db);
    Tensor wa =
        add(where(a_wins, Tensor::scalar(1.0, g[0].dtype()), Tensor::scalar(0.0, g[0].dtype())),
            where(tie, Tensor::scalar(0.5, g[0].dtype()), Tensor::scalar(0.0, g[0].dtype())));
    Tensor ga = mul(g[0], wa);
    Tensor gb = sub(g[0], ga);
    return Grads{sum_to(ga, da.shape()), sum_to(gb, db.shape())};
  });
  return out;
}
}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) {
  return min_max(BinaryOp::kMax, "maximum", a, b);
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return min_max(BinaryOp::kMin, "minimum", a, b);
}

Tensor add(const Tensor& a, double b) { return add(a, scalar_like(b, a)); }
Tensor sub(const Tensor& a, double b) { return sub(a, scalar_like(b, a)); }
Tensor mul(const Tensor& a, double b) { return mul(a, scalar_like(b, a)); }
Tensor div(const Tensor& a, double b) { return div(a, scalar_like(b, a)); }
Tensor rsub(double a, const Tensor& b) { return sub(scalar_like(a, b), b); }
Tensor rdiv(double a, const Tensor& b) { return div(scalar_like(a, b), b); }

Tensor pow(const Tensor& a, double exponent) {
  Tensor out = binary_raw(BinaryOp::kPow, a, scalar_like(exponent, a));
  autograd::record("pow_scalar", {a}, {out}, [da = a.detach(), exponent](const Grads& g) {
    if (exponent == 0.0) return Grads{Tensor::zeros(da.shape(), g[0].dtype(), g[0].device())};
    return Grads{mul(g[0], mul(pow(da, exponent - 1.0), exponent))};
  });
  return out;
}

// ---------------------------------------------------------------- unary

Tensor neg(const Tensor& x) {
  Tensor out = unary_raw(UnaryOp::kNeg, x);
  autograd::record("neg", {x}, {out}, [](const Grads& g) { return Grads{neg(g[0])}; });
  return out;
}

Tensor abs(const Tensor& x) {
  Tensor out = unary_raw(UnaryOp::kAbs, x);
  autograd::record("abs", {x}, {out},
                   [dx = x.detach()](const Grads& g) { return Grads{mul(g[0], sign(dx))}; });
  return out;
}

Tensor exp(const Tensor& x) {
  Tensor out = unary_raw(UnaryOp::kExp, x);
  autograd::record("exp", {x}, {out},
                   [d = out.detach()](const Grads& g) { return Grads{mul(g[0], d)}; });
  return out;
}

Tensor log(const Tensor& x) {
  Tensor out = unary_raw(UnaryOp::kLog, x);
  autograd::record("log", {x}, {out},
                   [dx = x.detach()](const Grads& g) { return Grads{div(g[0], dx)}; });
  return out;
}

Tensor sqrt(const Tensor& x) {
  Tensor out = unary_raw(UnaryOp::kSqrt, x);
  autograd::record("sqrt", {x}, {out},
                   [d = out.detach()](const Grads& g) { return Grads{div(g[0], mul(d, 2.0))}; });
  return out;
}

Tensor rsqrt(const Tensor& x) {
  Tensor out = unary_raw(UnaryOp::kRsqrt, x);
  autograd::record("rsqrt", {x}, {out}, [d = out.detach()](const Grads& g) {
    return Grads{mul(g[0], mul(pow(d, 3.0), -0.5))};  // d/dx x^-1/2 = -1/2 x^-3/2
  });
  return out;
}

Tensor square(const Tensor& x) {
  Tensor out = unary_raw(UnaryOp::kSquare, x);
  autograd::record("square", {x}, {out},
                   [dx = x.detach()](const Grads& g) { return Grads{mul(g[0], mul(dx, 2.0))}; });
  return out;
}

Tensor tanh(const Tensor& x) {
  Tensor out = unary_raw(UnaryOp::kTanh, x);
  autograd::record("tanh", {x}, {out}, [d = out.detach()](const Grads& g) {
    return Grads{mul(g[0], rsub(1.0, square(d)))};
  });
  return out;
}

Tensor sigmoid(const Tensor& x) {
  Tensor out = unary_raw(UnaryOp::kSigmoid, x);
  autograd::record("sigmoid", {x}, {out}, [d = out.detach()](const Grads& g) {
    return Grads{mul(g[0], mul(d, rsub(1.0, d)))};
  });
  return out;
}

Tensor relu(const Tensor& x) {
  Tensor out = unary_raw(UnaryOp::kRelu, x);
  autograd::record("relu", {x}, {out}, [dx = x.detach()](const Grads& g) {
    return Grads{where(gt(dx, 0.0), g[0], Tensor::zeros({}, g[0].dtype(), g[0].device()))};
  });
  return out;
}

Tensor gelu(const Tensor& x, GeluApprox approx) {
  Tensor out = unary_raw(approx == GeluApprox::kTanh ? UnaryOp::kGeluTanh : UnaryOp::kGelu, x);
  autograd::record("gelu", {x}, {out}, [dx = x.detach(), approx](const Grads& g) {
    // The derivative is computed by its own kernel: one pass instead of a dozen ops.
    return Grads{mul(
        g[0],
        unary_raw(approx == GeluApprox::kTanh ? UnaryOp::kGeluTanhGrad : UnaryOp::kGeluGrad, dx))};
  });
  return out;
}

Tensor silu(const Tensor& x) {
  Tensor out = unary_raw(UnaryOp::kSilu, x);
  autograd::record("silu", {x}, {out}, [dx = x.detach()](const Grads& g) {
    Tensor s = sigmoid(dx);  // d/dx x·σ(x) = σ(x)(1 + x(1-σ(x)))
    return Grads{mul(g[0], mul(s, add(mul(dx, rsub(1.0, s)), 1.0)))};
  });
  return out;
}

Tensor sign(const Tensor& x) { return unary_raw(UnaryOp::kSign, x); }

Tensor clamp(const Tensor& x, double lo, double hi) {
  CHORUS_CHECK(!(lo > hi), "clamp: lower bound ", lo, " exceeds upper bound ", hi);
  Tensor out = unary_raw(UnaryOp::kClamp, x, lo, hi);
  autograd::record("clamp", {x}, {out}, [dx = x.detach(), lo, hi](const Grads& g) {
    Tensor inside = logical_not(add(lt(dx, lo), gt(dx, hi)));  // bool + bool = logical or
    return Grads{where(inside, g[0], Tensor::zeros({}, g[0].dtype(), g[0].device()))};
  });
  return out;
}

// ---------------------------------------------------------------- selection and comparison

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  const Device device = ops_internal::common_device("where", {&cond, &a, &b});
  const DType result = promote_types(a.dtype(), b.dtype());
  const DType compute = kernel_dtype(result);
  const Shape shape = broadcast_shapes(cond.shape(), broadcast_shapes(a.shape(), b.shape()));
  Tensor c = ops_internal::to_device_raw(
      cond.dtype() == DType::kBool ? cond : ne(cond, Tensor::zeros({}, cond.dtype())), device);
  Tensor out = Tensor::empty(shape, compute, device);
  CHORUS_KERNEL(cpu::where_kernel)
  (out, broadcast_raw(c, shape, DType::kBool),
   broadcast_raw(ops_internal::to_device_raw(a, device), shape, compute),
   broadcast_raw(ops_internal::to_device_raw(b, device), shape, compute));
  if (result != compute) out = ops_internal::cast_raw(out, result);
  autograd::record(
      "where", {a, b}, {out}, [c = c.detach(), sa = a.shape(), sb = b.shape()](const Grads& g) {
        Tensor zero = Tensor::zeros({}, g[0].dtype(), g[0].device());
        return Grads{sum_to(where(c, g[0], zero), sa), sum_to(where(c, zero, g[0]), sb)};
      });
  return out;
}

Tensor eq(const Tensor& a, const Tensor& b) { return binary_raw(BinaryOp::kEq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return binary_raw(BinaryOp::kNe, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary_raw(BinaryOp::kLt, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return binary_raw(BinaryOp::kLe, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary_raw(BinaryOp::kGt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return binary_raw(BinaryOp::kGe, a, b); }
Tensor eq(const Tensor& a, double b) { return eq(a, scalar_like(b, a)); }
Tensor lt(const Tensor& a, double b) { return lt(a, scalar_like(b, a)); }
Tensor gt(const Tensor& a, double b) { return gt(a, scalar_like(b, a)); }
Tensor logical_not(const Tensor& x) { return unary_raw(UnaryOp::kNot, x); }

}  // namespace chorus
