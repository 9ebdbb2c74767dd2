// Fused AdamW and SGD updates: one pass over param, grad and state, in place, with the
// per-element arithmetic of the CPU kernels (cpu/adamw_kernels.cc, cpu/sgd_kernels.cc).
// The common mixed-precision case (f32 master, f32 or bf16 grad) takes a vectorised path of
// four elements per thread.
#include "core/ops/cuda/common.cuh"
#include "core/ops/cuda/optim_launch.h"

namespace chorus::cuda {
namespace {

template <class T>
__device__ __forceinline__ T load_grad(const void* g, DType d, int64_t i) {
  switch (d) {
    case DType::kF32:
      return static_cast<T>(static_cast<const float*>(g)[i]);
    case DType::kF64:
      return static_cast<T>(static_cast<const double*>(g)[i]);
    case DType::kBF16:
      return static_cast<T>(bf16_bits_to_float(static_cast<const uint16_t*>(g)[i]));
    default:
      return static_cast<T>(f16_bits_to_float(static_cast<const uint16_t*>(g)[i]));
  }
}

template <class T>
__device__ __forceinline__ void store_model(void* m, DType d, int64_t i, T v) {
  if (m == nullptr) return;
  const float f = static_cast<float>(v);
  static_cast<uint16_t*>(m)[i] = d == DType::kBF16 ? float_to_bf16_bits(f) : float_to_f16_bits(f);
}

template <class T>
struct AdamWScalarsT {
  T decay, beta1, one_minus_beta1, beta2, one_minus_beta2, neg_step_size, bc2_sqrt, eps;
};

template <class T>
__device__ __forceinline__ void adamw_element(T g, T& p, T& m, T& v, const AdamWScalarsT<T>& s) {
  T pi = p * s.decay;
  const T mi = m * s.beta1 + s.one_minus_beta1 * g;
  const T vi = v * s.beta2 + s.one_minus_beta2 * g * g;
  const T denom = sqrt(vi) / s.bc2_sqrt + s.eps;
  pi = pi + s.neg_step_size * mi / denom;
  m = mi;
  v = vi;
  p = pi;
}

template <class T>
__global__ void adamw_kernel(T* p, DType gd, const void* g, T* m, T* v, DType md, void* model,
                             int64_t n, AdamWScalarsT<T> s) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    T pi = p[i], mi = m[i], vi = v[i];
    adamw_element(load_grad<T>(g, gd, i), pi, mi, vi, s);
    p[i] = pi;
    m[i] = mi;
    v[i] = vi;
    store_model(model, md, i, pi);
  }
}

// f32 master, f32 (kBf16Grad = false) or bf16 grad, optional bf16 model: 4 per thread.
template <bool kBf16Grad>
__global__ void adamw_vec4(float4* p, const void* g, float4* m, float4* v, uint2* model, int64_t n4,
                           AdamWScalarsT<float> s) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n4;
       i += int64_t{gridDim.x} * blockDim.x) {
    float gv[4];
    if (kBf16Grad) {
      const uint2 w = static_cast<const uint2*>(g)[i];
      gv[0] = __uint_as_float(w.x << 16);
      gv[1] = __uint_as_float(w.x & 0xffff0000u);
      gv[2] = __uint_as_float(w.y << 16);
      gv[3] = __uint_as_float(w.y & 0xffff0000u);
    } else {
      const float4 w = static_cast<const float4*>(g)[i];
      gv[0] = w.x;
      gv[1] = w.y;
      gv[2] = w.z;
      gv[3] = w.w;
    }
    float4 pv = p[i], mv = m[i], vv = v[i];
    adamw_element(gv[0], pv.x, mv.x, vv.x, s);
    adamw_element(gv[1], pv.y, mv.y, vv.y, s);
    adamw_element(gv[2], pv.z, mv.z, vv.z, s);
    adamw_element(gv[3], pv.w, mv.w, vv.w, s);
    p[i] = pv;
    m[i] = mv;
    v[i] = vv;
    if (model != nullptr) {
      model[i] = make_uint2(float_to_bf16_bits(pv.x) | (uint32_t{float_to_bf16_bits(pv.y)} << 16),
                            float_to_bf16_bits(pv.z) | (uint32_t{float_to_bf16_bits(pv.w)} << 16));
    }
  }
}

template <class T>
__global__ void sgd_kernel(T* p, DType gd, const void* g, T* buf, DType md, void* model, int64_t n,
                           T neg_lr, T wd, T mu, T one_minus_dampening, bool use_wd, bool nesterov,
                           bool init_buffer) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    T d = load_grad<T>(g, gd, i);
    if (use_wd) d = d + wd * p[i];
    if (buf != nullptr) {
      const T b = init_buffer ? d : buf[i] * mu + one_minus_dampening * d;
      buf[i] = b;
      d = nesterov ? d + mu * b : b;
    }
    const T pi = p[i] + neg_lr * d;
    p[i] = pi;
    store_model(model, md, i, pi);
  }
}

template <class T>
AdamWScalarsT<T> scalars(const AdamWArgs& a) {
  return {static_cast<T>(a.decay),
          static_cast<T>(a.beta1),
          static_cast<T>(1.0 - a.beta1),
          static_cast<T>(a.beta2),
          static_cast<T>(1.0 - a.beta2),
          static_cast<T>(-a.step_size),
          static_cast<T>(a.bias_correction2_sqrt),
          static_cast<T>(a.eps)};
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

}  // namespace

void launch_adamw(bool f64, void* param, DType grad_dtype, const void* grad, void* exp_avg,
                  void* exp_avg_sq, DType model_dtype, void* model, int64_t n, const AdamWArgs& a,
                  StreamHandle stream) {
  if (n == 0) return;
  if (f64) {
    adamw_kernel<double><<<grid_for(n), kBlock, 0, stream>>>(
        static_cast<double*>(param), grad_dtype, grad, static_cast<double*>(exp_avg),
        static_cast<double*>(exp_avg_sq), model_dtype, model, n, scalars<double>(a));
    return;
  }
  const bool vec = n % 4 == 0 && (grad_dtype == DType::kF32 || grad_dtype == DType::kBF16) &&
                   (model == nullptr || model_dtype == DType::kBF16) && aligned16(param) &&
                   aligned16(exp_avg) && aligned16(exp_avg_sq) &&
                   (reinterpret_cast<uintptr_t>(grad) & 7) == 0 &&
                   (grad_dtype == DType::kBF16 || aligned16(grad)) &&
                   (reinterpret_cast<uintptr_t>(model) & 7) == 0;
  if (vec) {
    const int64_t n4 = n / 4;
    auto* p = static_cast<float4*>(param);
    auto* m = static_cast<float4*>(exp_avg);
    auto* v = static_cast<float4*>(exp_avg_sq);
    auto* mo = static_cast<uint2*>(model);
    if (grad_dtype == DType::kBF16) {
      adamw_vec4<true>
          <<<grid_for(n4), kBlock, 0, stream>>>(p, grad, m, v, mo, n4, scalars<float>(a));
    } else {
      adamw_vec4<false>
          <<<grid_for(n4), kBlock, 0, stream>>>(p, grad, m, v, mo, n4, scalars<float>(a));
    }
    return;
  }
  adamw_kernel<float><<<grid_for(n), kBlock, 0, stream>>>(
      static_cast<float*>(param), grad_dtype, grad, static_cast<float*>(exp_avg),
      static_cast<float*>(exp_avg_sq), model_dtype, model, n, scalars<float>(a));
}

void launch_sgd(bool f64, void* param, DType grad_dtype, const void* grad, void* momentum_buffer,
                DType model_dtype, void* model, int64_t n, const SGDArgs& a, StreamHandle stream) {
  if (n == 0) return;
  const bool use_wd = a.weight_decay != 0.0;
  if (f64) {
    sgd_kernel<double><<<grid_for(n), kBlock, 0, stream>>>(
        static_cast<double*>(param), grad_dtype, grad, static_cast<double*>(momentum_buffer),
        model_dtype, model, n, -a.lr, a.weight_decay, a.momentum, 1.0 - a.dampening, use_wd,
        a.nesterov, a.init_buffer);
  } else {
    sgd_kernel<float><<<grid_for(n), kBlock, 0, stream>>>(
        static_cast<float*>(param), grad_dtype, grad, static_cast<float*>(momentum_buffer),
        model_dtype, model, n, static_cast<float>(-a.lr), static_cast<float>(a.weight_decay),
        static_cast<float>(a.momentum), static_cast<float>(1.0 - a.dampening), use_wd, a.nesterov,
        a.init_buffer);
  }
}

}  // namespace chorus::cuda
