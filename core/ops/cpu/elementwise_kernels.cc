#include "core/ops/cpu/elementwise_kernels.h"

#include <cmath>

#include "core/tensor/dispatch.h"
#include "core/tensor/parallel.h"
#include "core/tensor/strided_loop.h"

namespace chorus::cpu {
namespace {

// Applies out[i] = f(a[i], b[i]) over broadcast operands: a flat loop when every operand is
// contiguous (the common case, which the compiler vectorises), the strided row walk otherwise.
template <class In, class Out, class F>
void apply_binary(const Tensor& out, const Tensor& a, const Tensor& b, F f) {
  Out* o = static_cast<Out*>(out.storage()->data());
  const In* pa = static_cast<const In*>(a.storage()->data());
  const In* pb = static_cast<const In*>(b.storage()->data());
  if (a.is_contiguous() && b.is_contiguous()) {
    o += out.offset();
    pa += a.offset();
    pb += b.offset();
    parallel_for(0, out.numel(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) o[i] = f(pa[i], pb[i]);
    });
    return;
  }
  for_each_row<3>(out.shape(), {&out.strides(), &a.strides(), &b.strides()},
                  {out.offset(), a.offset(), b.offset()},
                  [&](const int64_t* off, int64_t n, const int64_t* st) {
                    Out* po = o + off[0];
                    const In* xa = pa + off[1];
                    const In* xb = pb + off[2];
                    if (st[1] == 1 && st[2] == 0) {  // row op scalar (e.g. bias broadcast)
                      const In s = xb[0];
                      for (int64_t i = 0; i < n; ++i) po[i] = f(xa[i], s);
                    } else if (st[1] == 0 && st[2] == 1) {
                      const In s = xa[0];
                      for (int64_t i = 0; i < n; ++i) po[i] = f(s, xb[i]);
                    } else {
                      for (int64_t i = 0; i < n; ++i)
                        po[i * st[0]] = f(xa[i * st[1]], xb[i * st[2]]);
                    }
                  });
}

template <class In, class Out, class F>
void apply_unary(const Tensor& out, const Tensor& x, F f) {
  Out* o = static_cast<Out*>(out.storage()->data());
  const In* px = static_cast<const In*>(x.storage()->data());
  if (x.is_contiguous()) {
    o += out.offset();
    px += x.offset();
    parallel_for(0, out.numel(), kElementwiseGrain / 4, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) o[i] = f(px[i]);
    });
    return;
  }
  for_each_row<2>(out.shape(), {&out.strides(), &x.strides()}, {out.offset(), x.offset()},
                  [&](const int64_t* off, int64_t n, const int64_t* st) {
                    for (int64_t i = 0; i < n; ++i)
                      o[off[0] + i * st[0]] = f(px[off[1] + i * st[1]]);
                  });
}

template <class T>
void binary_typed(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  switch (op) {
    case BinaryOp::kAdd:
      return apply_binary<T, T>(out, a, b, [](T x, T y) { return x + y; });
    case BinaryOp::kSub:
      return apply_binary<T, T>(out, a, b, [](T x, T y) { return x - y; });
    case BinaryOp::kMul:
      return apply_binary<T, T>(out, a, b, [](T x, T y) { return x * y; });
    case BinaryOp::kDiv:
      return apply_binary<T, T>(out, a, b, [](T x, T y) { return x / y; });
    case BinaryOp::kPow:
      return apply_binary<T, T>(out, a, b, [](T x, T y) { return std::pow(x, y); });
    case BinaryOp::kMax:
      return apply_binary<T, T>(out, a, b, [](T x, T y) { return x >= y || x != x ? x : y; });
    case BinaryOp::kMin:
      return apply_binary<T, T>(out, a, b, [](T x, T y) { return x <= y || x != x ? x : y; });
    case BinaryOp::kEq:
      return apply_binary<T, uint8_t>(out, a, b, [](T x, T y) -> uint8_t { return x == y; });
    case BinaryOp::kNe:
      return apply_binary<T, uint8_t>(out, a, b, [](T x, T y) -> uint8_t { return x != y; });
    case BinaryOp::kLt:
      return apply_binary<T, uint8_t>(out, a, b, [](T x, T y) -> uint8_t { return x < y; });
    case BinaryOp::kLe:
      return apply_binary<T, uint8_t>(out, a, b, [](T x, T y) -> uint8_t { return x <= y; });
    case BinaryOp::kGt:
      return apply_binary<T, uint8_t>(out, a, b, [](T x, T y) -> uint8_t { return x > y; });
    case BinaryOp::kGe:
      return apply_binary<T, uint8_t>(out, a, b, [](T x, T y) -> uint8_t { return x >= y; });
  }
}

template <class T>
T gelu_erf(T x) {
  return T(0.5) * x * (T(1) + std::erf(x * T(0.70710678118654752440)));
}
template <class T>
T gelu_tanh(T x) {
  const T k = T(0.79788456080286535588);  // sqrt(2/pi)
  return T(0.5) * x * (T(1) + std::tanh(k * (x + T(0.044715) * x * x * x)));
}

template <class T>
T gelu_erf_grad(T x) {  // Φ(x) + x·φ(x)
  const T cdf = T(0.5) * (T(1) + std::erf(x * T(0.70710678118654752440)));
  const T pdf = std::exp(T(-0.5) * x * x) * T(0.39894228040143267794);
  return cdf + x * pdf;
}
template <class T>
T gelu_tanh_grad(T x) {
  const T k = T(0.79788456080286535588), c = T(0.044715);
  const T t = std::tanh(k * (x + c * x * x * x));
  return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * k * (T(1) + T(3) * c * x * x);
}

template <class T>
void unary_typed(UnaryOp op, const Tensor& out, const Tensor& x, double alpha, double beta) {
  switch (op) {
    case UnaryOp::kNeg:
      return apply_unary<T, T>(out, x, [](T v) { return -v; });
    case UnaryOp::kAbs:
      return apply_unary<T, T>(out, x, [](T v) { return std::abs(v); });
    case UnaryOp::kExp:
      return apply_unary<T, T>(out, x, [](T v) { return std::exp(v); });
    case UnaryOp::kLog:
      return apply_unary<T, T>(out, x, [](T v) { return std::log(v); });
    case UnaryOp::kSqrt:
      return apply_unary<T, T>(out, x, [](T v) { return std::sqrt(v); });
    case UnaryOp::kRsqrt:
      return apply_unary<T, T>(out, x, [](T v) { return T(1) / std::sqrt(v); });
    case UnaryOp::kSquare:
      return apply_unary<T, T>(out, x, [](T v) { return v * v; });
    case UnaryOp::kTanh:
      return apply_unary<T, T>(out, x, [](T v) { return std::tanh(v); });
    case UnaryOp::kSigmoid:
      return apply_unary<T, T>(out, x, [](T v) { return T(1) / (T(1) + std::exp(-v)); });
    case UnaryOp::kRelu:
      return apply_unary<T, T>(out, x, [](T v) { return v > T(0) ? v : T(0); });
    case UnaryOp::kGelu:
      return apply_unary<T, T>(out, x, [](T v) { return gelu_erf(v); });
    case UnaryOp::kGeluTanh:
      return apply_unary<T, T>(out, x, [](T v) { return gelu_tanh(v); });
    case UnaryOp::kSilu:
      return apply_unary<T, T>(out, x, [](T v) { return v / (T(1) + std::exp(-v)); });
    case UnaryOp::kSign:
      return apply_unary<T, T>(out, x, [](T v) { return T((v > T(0)) - (v < T(0))); });
    case UnaryOp::kClamp: {
      const T lo = static_cast<T>(alpha), hi = static_cast<T>(beta);
      return apply_unary<T, T>(out, x, [=](T v) { return v < lo ? lo : (v > hi ? hi : v); });
    }
    case UnaryOp::kGeluGrad:
      return apply_unary<T, T>(out, x, [](T v) { return gelu_erf_grad(v); });
    case UnaryOp::kGeluTanhGrad:
      return apply_unary<T, T>(out, x, [](T v) { return gelu_tanh_grad(v); });
    case UnaryOp::kNot:
      return apply_unary<T, uint8_t>(out, x, [](T v) -> uint8_t { return v == T(0); });
  }
}

}  // namespace

void binary_kernel(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  CHORUS_DISPATCH_FLOAT(a.dtype(), T, [&] { binary_typed<T>(op, out, a, b); });
}

void unary_kernel(UnaryOp op, const Tensor& out, const Tensor& x, double alpha, double beta) {
  CHORUS_DISPATCH_FLOAT(x.dtype(), T, [&] { unary_typed<T>(op, out, x, alpha, beta); });
}

void where_kernel(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) {
  CHORUS_DISPATCH_FLOAT(a.dtype(), T, [&] {
    T* o = static_cast<T*>(out.storage()->data());
    const uint8_t* c = static_cast<const uint8_t*>(cond.storage()->data());
    const T* pa = static_cast<const T*>(a.storage()->data());
    const T* pb = static_cast<const T*>(b.storage()->data());
    for_each_row<4>(out.shape(), {&out.strides(), &cond.strides(), &a.strides(), &b.strides()},
                    {out.offset(), cond.offset(), a.offset(), b.offset()},
                    [&](const int64_t* off, int64_t n, const int64_t* st) {
                      for (int64_t i = 0; i < n; ++i) {
                        o[off[0] + i * st[0]] =
                            c[off[1] + i * st[1]] ? pa[off[2] + i * st[2]] : pb[off[3] + i * st[3]];
                      }
                    });
  });
}

}  // namespace chorus::cpu
