// Fused cross-entropy: one block per row. The forward reads the row once (an online
// max/sum-of-exp that rescales when the maximum grows), the backward reads it once and writes
// the gradient once, so both run at memory bandwidth for vocabularies of any size.
#include <algorithm>

#include "core/ops/cuda/common.cuh"
#include "core/ops/cuda/loss_launch.h"

namespace chorus::cuda {
namespace {

template <class T>
using Acc = std::conditional_t<std::is_same_v<T, double>, double, float>;

template <class A>
__device__ __forceinline__ void online_add(A v, A& m, A& s) {
  if (v == A(-INFINITY)) return;  // contributes exp(-inf) = 0; would make -inf - -inf = NaN
  if (v > m) {
    s = s * exp(m - v) + A(1);
    m = v;
  } else {
    s += exp(v - m);
  }
}

template <class T>
__global__ void __launch_bounds__(1024)
    ce_forward(Acc<T>* loss, Acc<T>* lse, const T* x, const int64_t* targets, int64_t n, int64_t c,
               int64_t ignore, Acc<T> eps, bool vec) {
  using A = Acc<T>;
  using V = Vec16<T>;
  __shared__ A scratch[32];
  for (int64_t r = blockIdx.x; r < n; r += gridDim.x) {
    const int64_t t = targets[r];
    if (t == ignore) {
      if (threadIdx.x == 0) loss[r] = lse[r] = A(0);
      continue;
    }
    const T* row = x + r * c;
    A m = -INFINITY, s = 0, sum = 0;
    if (vec) {
      for (int64_t j = threadIdx.x * int64_t{V::kWidth}; j < c; j += blockDim.x * V::kWidth) {
        A v[V::kWidth];
        V::load(row, j, v);
#pragma unroll
        for (int k = 0; k < V::kWidth; ++k) {
          online_add(v[k], m, s);
          sum += v[k];
        }
      }
    } else {
      for (int64_t j = threadIdx.x; j < c; j += blockDim.x) {
        const A v = RowIo<T>::load(row, j);
        online_add(v, m, s);
        sum += v;
      }
    }
    const A mall = block_max(m, scratch);
    s = s == A(0) ? A(0) : s * exp(m - mall);
    s = block_sum(s, scratch);
    if (eps != A(0)) sum = block_sum(sum, scratch);
    if (threadIdx.x == 0) {
      const A l = mall + log(s);
      lse[r] = l;
      loss[r] = l - (A(1) - eps) * RowIo<T>::load(row, t) - eps * (sum / static_cast<A>(c));
    }
  }
}

template <class T>
__global__ void __launch_bounds__(1024)
    ce_backward(T* gx, const Acc<T>* grad, bool per_row, Acc<T> factor, const T* x,
                const int64_t* targets, const Acc<T>* lse, int64_t n, int64_t c, int64_t ignore,
                Acc<T> eps, bool vec) {
  using A = Acc<T>;
  using V = Vec16<T>;
  for (int64_t r = blockIdx.x; r < n; r += gridDim.x) {
    const int64_t t = targets[r];
    T* out = gx + r * c;
    const T* row = x + r * c;
    const bool ignored = t == ignore;
    const A s = ignored ? A(0) : (per_row ? grad[r] : grad[0]) * factor;
    const A l = ignored ? A(0) : lse[r];
    const A off = s * eps / static_cast<A>(c), hit = s * (A(1) - eps);
    if (vec) {
      for (int64_t j = threadIdx.x * int64_t{V::kWidth}; j < c; j += blockDim.x * V::kWidth) {
        A v[V::kWidth];
        V::load(row, j, v);
#pragma unroll
        for (int k = 0; k < V::kWidth; ++k) {
          v[k] = ignored ? A(0) : exp(v[k] - l) * s - off - (j + k == t ? hit : A(0));
        }
        V::store(out, j, v);
      }
    } else {
      for (int64_t j = threadIdx.x; j < c; j += blockDim.x) {
        const A v = RowIo<T>::load(row, j);
        RowIo<T>::store(out, j, ignored ? A(0) : exp(v - l) * s - off - (j == t ? hit : A(0)));
      }
    }
  }
}

bool can_vectorize(const void* p, int64_t c, int width) {
  return (reinterpret_cast<uintptr_t>(p) & 15) == 0 && c % width == 0;
}

int threads_for(int64_t c) { return c >= 8192 ? 1024 : c >= 1024 ? 256 : 64; }
unsigned blocks_for(int64_t n) {
  return static_cast<unsigned>(std::clamp<int64_t>(n, 1, 65535 * 16));
}

template <class T>
void forward(void* loss, void* lse, const void* logits, const int64_t* targets, int64_t n,
             int64_t c, int64_t ignore, double eps, StreamHandle stream) {
  using A = Acc<T>;
  const bool vec = can_vectorize(logits, c, Vec16<T>::kWidth);
  ce_forward<T><<<blocks_for(n), threads_for(c), 0, stream>>>(
      static_cast<A*>(loss), static_cast<A*>(lse), static_cast<const T*>(logits), targets, n, c,
      ignore, static_cast<A>(eps), vec);
}

template <class T>
void backward(void* gx, const void* grad, bool per_row, double factor, const void* logits,
              const int64_t* targets, const void* lse, int64_t n, int64_t c, int64_t ignore,
              double eps, StreamHandle stream) {
  using A = Acc<T>;
  const bool vec =
      can_vectorize(logits, c, Vec16<T>::kWidth) && can_vectorize(gx, c, Vec16<T>::kWidth);
  ce_backward<T><<<blocks_for(n), threads_for(c), 0, stream>>>(
      static_cast<T*>(gx), static_cast<const A*>(grad), per_row, static_cast<A>(factor),
      static_cast<const T*>(logits), targets, static_cast<const A*>(lse), n, c, ignore,
      static_cast<A>(eps), vec);
}

}  // namespace

void launch_cross_entropy_forward(DType io, void* loss, void* lse, const void* logits,
                                  const int64_t* targets, int64_t n, int64_t c,
                                  int64_t ignore_index, double smoothing, StreamHandle stream) {
  if (n == 0) return;
  switch (io) {
    case DType::kF32:
      return forward<float>(loss, lse, logits, targets, n, c, ignore_index, smoothing, stream);
    case DType::kF64:
      return forward<double>(loss, lse, logits, targets, n, c, ignore_index, smoothing, stream);
    default:
      return forward<uint16_t>(loss, lse, logits, targets, n, c, ignore_index, smoothing, stream);
  }
}

void launch_cross_entropy_backward(DType io, void* gx, const void* grad, bool per_row,
                                   double factor, const void* logits, const int64_t* targets,
                                   const void* lse, int64_t n, int64_t c, int64_t ignore_index,
                                   double smoothing, StreamHandle stream) {
  if (n == 0 || c == 0) return;
  switch (io) {
    case DType::kF32:
      return backward<float>(gx, grad, per_row, factor, logits, targets, lse, n, c, ignore_index,
                             smoothing, stream);
    case DType::kF64:
      return backward<double>(gx, grad, per_row, factor, logits, targets, lse, n, c, ignore_index,
                              smoothing, stream);
    default:
      return backward<uint16_t>(gx, grad, per_row, factor, logits, targets, lse, n, c, ignore_index,
                                smoothing, stream);
  }
}

}  // namespace chorus::cuda
