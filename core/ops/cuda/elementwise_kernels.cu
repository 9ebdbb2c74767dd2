// Elementwise kernels (core/ops/elementwise.h) on broadcast, strided f32/f64 operands. The
// formulas are those of core/ops/cpu/elementwise_kernels.cc, in the same order of operations.
#include "core/ops/cuda/common.cuh"
#include "core/ops/cuda/elementwise_launch.h"

namespace chorus::cuda {
namespace {

template <class T>
__device__ __forceinline__ T gelu_erf(T x) {
  return T(0.5) * x * (T(1) + erf(x * T(0.70710678118654752440)));
}
template <class T>
__device__ __forceinline__ T gelu_tanh(T x) {
  const T k = T(0.79788456080286535588);
  return T(0.5) * x * (T(1) + tanh(k * (x + T(0.044715) * x * x * x)));
}
template <class T>
__device__ __forceinline__ T gelu_erf_grad(T x) {
  const T cdf = T(0.5) * (T(1) + erf(x * T(0.70710678118654752440)));
  const T pdf = exp(T(-0.5) * x * x) * T(0.39894228040143267794);
  return cdf + x * pdf;
}
template <class T>
__device__ __forceinline__ T gelu_tanh_grad(T x) {
  const T k = T(0.79788456080286535588), c = T(0.044715);
  const T t = tanh(k * (x + c * x * x * x));
  return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * k * (T(1) + T(3) * c * x * x);
}

template <class T>
__device__ __forceinline__ T binary_value(int op, T x, T y) {
  switch (op) {
    case kBinAdd:
      return x + y;
    case kBinSub:
      return x - y;
    case kBinMul:
      return x * y;
    case kBinDiv:
      return x / y;
    case kBinPow:
      return pow(x, y);
    case kBinMax:
      return x >= y || x != x ? x : y;
    default:  // kBinMin
      return x <= y || x != x ? x : y;
  }
}

__device__ __forceinline__ bool compare(int op, double x, double y) {
  switch (op) {
    case kBinEq:
      return x == y;
    case kBinNe:
      return x != y;
    case kBinLt:
      return x < y;
    case kBinLe:
      return x <= y;
    case kBinGt:
      return x > y;
    default:
      return x >= y;
  }
}

template <class T>
__global__ void binary_kernel(int op, const __grid_constant__ Geometry geo,
                              const __grid_constant__ Operand out,
                              const __grid_constant__ Operand a,
                              const __grid_constant__ Operand b) {
  const T* pa = static_cast<const T*>(a.data);
  const T* pb = static_cast<const T*>(b.data);
  const bool cmp = op >= kBinEq;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < geo.numel;
       i += int64_t{gridDim.x} * blockDim.x) {
    const T x = pa[operand_offset(geo, a, i)], y = pb[operand_offset(geo, b, i)];
    const int64_t o = operand_offset(geo, out, i);
    if (cmp) {
      static_cast<uint8_t*>(out.data)[o] = compare(op, x, y);
    } else {
      static_cast<T*>(out.data)[o] = binary_value(op, x, y);
    }
  }
}

template <class T>
__device__ __forceinline__ T unary_value(int op, T v, T lo, T hi) {
  switch (op) {
    case kUnNeg:
      return -v;
    case kUnAbs:
      return fabs(v);
    case kUnExp:
      return exp(v);
    case kUnLog:
      return log(v);
    case kUnSqrt:
      return sqrt(v);
    case kUnRsqrt:
      return T(1) / sqrt(v);
    case kUnSquare:
      return v * v;
    case kUnTanh:
      return tanh(v);
    case kUnSigmoid:
      return T(1) / (T(1) + exp(-v));
    case kUnRelu:
      return v > T(0) ? v : T(0);
    case kUnGelu:
      return gelu_erf(v);
    case kUnGeluTanh:
      return gelu_tanh(v);
    case kUnSilu:
      return v / (T(1) + exp(-v));
    case kUnSign:
      return T((v > T(0)) - (v < T(0)));
    case kUnClamp:
      return v < lo ? lo : (v > hi ? hi : v);
    case kUnGeluGrad:
      return gelu_erf_grad(v);
    default:  // kUnGeluTanhGrad
      return gelu_tanh_grad(v);
  }
}

template <class T>
__global__ void unary_kernel(int op, const __grid_constant__ Geometry geo,
                             const __grid_constant__ Operand out, const __grid_constant__ Operand x,
                             T lo, T hi) {
  const T* px = static_cast<const T*>(x.data);
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < geo.numel;
       i += int64_t{gridDim.x} * blockDim.x) {
    const T v = px[operand_offset(geo, x, i)];
    const int64_t o = operand_offset(geo, out, i);
    if (op == kUnNot) {
      static_cast<uint8_t*>(out.data)[o] = v == T(0);
    } else {
      static_cast<T*>(out.data)[o] = unary_value(op, v, lo, hi);
    }
  }
}

template <class T>
__global__ void where_kernel(const __grid_constant__ Geometry geo,
                             const __grid_constant__ Operand out, const __grid_constant__ Operand c,
                             const __grid_constant__ Operand a, const __grid_constant__ Operand b) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < geo.numel;
       i += int64_t{gridDim.x} * blockDim.x) {
    const bool take_a = static_cast<const uint8_t*>(c.data)[operand_offset(geo, c, i)] != 0;
    static_cast<T*>(out.data)[operand_offset(geo, out, i)] =
        take_a ? static_cast<const T*>(a.data)[operand_offset(geo, a, i)]
               : static_cast<const T*>(b.data)[operand_offset(geo, b, i)];
  }
}

}  // namespace

void launch_binary(int op, bool f64, const Geometry& geo, const Operand& out, const Operand& a,
                   const Operand& b, StreamHandle stream) {
  if (geo.numel == 0) return;
  if (f64) {
    binary_kernel<double><<<grid_for(geo.numel), kBlock, 0, stream>>>(op, geo, out, a, b);
  } else {
    binary_kernel<float><<<grid_for(geo.numel), kBlock, 0, stream>>>(op, geo, out, a, b);
  }
}

void launch_unary(int op, bool f64, const Geometry& geo, const Operand& out, const Operand& x,
                  double lo, double hi, StreamHandle stream) {
  if (geo.numel == 0) return;
  if (f64) {
    unary_kernel<double><<<grid_for(geo.numel), kBlock, 0, stream>>>(op, geo, out, x, lo, hi);
  } else {
    unary_kernel<float><<<grid_for(geo.numel), kBlock, 0, stream>>>(
        op, geo, out, x, static_cast<float>(lo), static_cast<float>(hi));
  }
}

void launch_where(bool f64, const Geometry& geo, const Operand& out, const Operand& cond,
                  const Operand& a, const Operand& b, StreamHandle stream) {
  if (geo.numel == 0) return;
  if (f64) {
    where_kernel<double><<<grid_for(geo.numel), kBlock, 0, stream>>>(geo, out, cond, a, b);
  } else {
    where_kernel<float><<<grid_for(geo.numel), kBlock, 0, stream>>>(geo, out, cond, a, b);
  }
}

}  // namespace chorus::cuda
