#include "core/ops/cpu/conv_kernels.h"

#include <algorithm>
#include <cstring>
#include <mutex>

#include "core/ops/cpu/gemm_kernels.h"
#include "core/ops/cpu/im2col.h"
#include "core/ops/cpu/vec_math.h"
#include "core/tensor/dispatch.h"
#include "core/tensor/parallel.h"

namespace chorus::cpu {
namespace {

// Runs chunk(n0, n1, col) over chunks of samples, where col is a scratch [patch, pixels]
// buffer owned by that chunk (none for direct convolutions). Samples go to the pool when each
// GEMM is small (OpenBLAS would run it on one thread anyway); otherwise one chunk takes all
// samples in order and OpenBLAS threads the GEMMs.
template <class T, class Chunk>
void for_each_chunk(const ConvGeometry& g, DType dtype, Chunk chunk) {
  const int64_t gemm_work = g.group_out() * g.patch() * g.pixels();
  const int64_t col_size = g.direct() ? 0 : g.patch() * g.pixels();
  auto run = [&](int64_t n0, int64_t n1) {
    Tensor col = Tensor::empty({col_size}, dtype);  // engine allocator: visible in memory stats
    chunk(n0, n1, static_cast<T*>(col.raw_data()));
  };
  if (g.batch > 1 && gemm_work <= kSmallGemm && num_threads() > 1) {
    BlasSingleThreadScope single;
    parallel_for(0, g.batch, 1, run);
  } else {
    run(0, g.batch);
  }
}

template <class T>
void forward_typed(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias,
                   const ConvGeometry& g) {
  const T* px = x.data<T>();
  const T* pw = w.data<T>();
  const T* pb = bias.defined() ? bias.data<T>() : nullptr;
  T* po = out.data<T>();
  const int64_t og = g.group_out(), k = g.patch(), pixels = g.pixels();
  const int64_t plane = g.height * g.width;
  for_each_chunk<T>(g, x.dtype(), [&](int64_t n0, int64_t n1, T* col) {
    for (int64_t n = n0; n < n1; ++n) {
      for (int64_t gi = 0; gi < g.groups; ++gi) {
        const T* image = px + (n * g.in_channels + gi * g.group_in()) * plane;
        T* dst = po + (n * g.out_channels + gi * og) * pixels;
        const T* src = image;
        if (!g.direct()) {
          im2col(image, col, g);
          src = col;
        }
        if (pb) {  // start from the bias and let the GEMM add the product
          for (int64_t o = 0; o < og; ++o) {
            std::fill(dst + o * pixels, dst + (o + 1) * pixels, pb[gi * og + o]);
          }
        }
        gemm<T>(false, false, og, pixels, k, T(1), pw + gi * og * k, k, src, pixels,
                pb ? T(1) : T(0), dst, pixels);
      }
    }
  });
}

template <class T>
void backward_input_typed(const Tensor& gx, const Tensor& gout, const Tensor& w,
                          const ConvGeometry& g) {
  const T* pg = gout.data<T>();
  const T* pw = w.data<T>();
  T* px = gx.data<T>();
  const int64_t og = g.group_out(), k = g.patch(), pixels = g.pixels();
  const int64_t plane = g.height * g.width;
  if (!g.direct()) std::memset(px, 0, gx.nbytes());
  for_each_chunk<T>(g, gx.dtype(), [&](int64_t n0, int64_t n1, T* col) {
    for (int64_t n = n0; n < n1; ++n) {
      for (int64_t gi = 0; gi < g.groups; ++gi) {
        T* image = px + (n * g.in_channels + gi * g.group_in()) * plane;
        const T* src = pg + (n * g.out_channels + gi * og) * pixels;
        // col = W_gᵀ · grad_out; a direct convolution's col is the input gradient itself.
        T* dst = g.direct() ? image : col;
        gemm<T>(true, false, k, pixels, og, T(1), pw + gi * og * k, k, src, pixels, T(0), dst,
                pixels);
        if (!g.direct()) col2im_add(col, image, g);
      }
    }
  });
}

template <class T>
void backward_weight_typed(const Tensor& gw, const Tensor& gout, const Tensor& x,
                           const ConvGeometry& g) {
  const T* pg = gout.data<T>();
  const T* px = x.data<T>();
  T* pw = gw.data<T>();
  const int64_t og = g.group_out(), k = g.patch(), pixels = g.pixels();
  const int64_t plane = g.height * g.width, wsize = g.out_channels * k;
  std::memset(pw, 0, gw.nbytes());
  std::mutex merge;
  for_each_chunk<T>(g, x.dtype(), [&](int64_t n0, int64_t n1, T* col) {
    // A chunk holding every sample sums straight into grad_w; concurrent chunks sum into
    // their own buffer, added to grad_w under a lock at the end.
    const bool alone = n0 == 0 && n1 == g.batch;
    Tensor own = alone ? Tensor() : Tensor::zeros({wsize}, gw.dtype());
    T* acc = alone ? pw : static_cast<T*>(own.raw_data());
    for (int64_t n = n0; n < n1; ++n) {
      for (int64_t gi = 0; gi < g.groups; ++gi) {
        const T* image = px + (n * g.in_channels + gi * g.group_in()) * plane;
        const T* src = image;
        if (!g.direct()) {
          im2col(image, col, g);
          src = col;
        }
        // dW_g += grad_out_g [og, pixels] · colᵀ [pixels, k]
        gemm<T>(false, true, og, k, pixels, T(1), pg + (n * g.out_channels + gi * og) * pixels,
                pixels, src, pixels, T(1), acc + gi * og * k, k);
      }
    }
    if (!alone) {
      std::lock_guard<std::mutex> lock(merge);
      vec::add(pw, acc, wsize);
    }
  });
}

}  // namespace

void conv2d_forward(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias,
                    const ConvGeometry& g) {
  CHORUS_DISPATCH_FLOAT(x.dtype(), T, [&] { forward_typed<T>(out, x, w, bias, g); });
}

void conv2d_backward_input(const Tensor& grad_x, const Tensor& grad_out, const Tensor& w,
                           const ConvGeometry& g) {
  CHORUS_DISPATCH_FLOAT(grad_x.dtype(), T,
                        [&] { backward_input_typed<T>(grad_x, grad_out, w, g); });
}

void conv2d_backward_weight(const Tensor& grad_w, const Tensor& grad_out, const Tensor& x,
                            const ConvGeometry& g) {
  CHORUS_DISPATCH_FLOAT(grad_w.dtype(), T,
                        [&] { backward_weight_typed<T>(grad_w, grad_out, x, g); });
}

}  // namespace chorus::cpu
