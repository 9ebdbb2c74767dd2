// cuDNN convolutions (core/ops/cuda/dnn/conv.h) against direct double-precision loops: forward
// with bias, both backward passes and the bias gradient, with stride, padding, dilation and
// groups, in f32 and bf16, and a conv1d shaped as a height-1 conv2d.
#include "core/ops/cuda/dnn/conv.h"

#include <gtest/gtest.h>

#include "tests/cuda/vendor/device_data.h"

namespace chorus::cuda::test {
namespace {

using dnn::ConvProblem;

ConvProblem problem(int64_t n, int64_t c, int64_t h, int64_t w, int64_t o, int64_t kh, int64_t kw,
                    int64_t stride, int64_t pad, int64_t dil, int64_t groups, DType t) {
  ConvProblem p;
  p.n = n, p.c = c, p.h = h, p.w = w, p.o = o, p.kh = kh, p.kw = kw;
  p.stride_h = p.stride_w = stride;
  p.pad_h = kh > 1 ? pad : 0;
  p.pad_w = pad;
  p.dil_h = p.dil_w = dil;
  p.groups = groups;
  p.out_h = (h + 2 * p.pad_h - dil * (kh - 1) - 1) / stride + 1;
  p.out_w = (w + 2 * p.pad_w - dil * (kw - 1) - 1) / stride + 1;
  p.dtype = t;
  return p;
}

void check(const ConvProblem& p, uint64_t seed) {
  const DType t = p.dtype;
  const int64_t cg = p.c / p.groups, og = p.o / p.groups;
  const auto x = random_values(p.n * p.c * p.h * p.w, t, seed);
  const auto w = random_values(p.o * cg * p.kh * p.kw, t, seed + 1);
  const auto bias = random_values(p.o, t, seed + 2);
  const auto dy = random_values(p.n * p.o * p.out_h * p.out_w, t, seed + 3);
  std::vector<double> y(dy.size(), 0.0), dx(x.size(), 0.0), dw(w.size(), 0.0), db(p.o, 0.0);
  for (int64_t n = 0; n < p.n; ++n)
    for (int64_t o = 0; o < p.o; ++o)
      for (int64_t oy = 0; oy < p.out_h; ++oy)
        for (int64_t ox = 0; ox < p.out_w; ++ox) {
          const int64_t yi = ((n * p.o + o) * p.out_h + oy) * p.out_w + ox;
          double s = bias[o];
          const int64_t g = o / og;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t ky = 0; ky < p.kh; ++ky)
              for (int64_t kx = 0; kx < p.kw; ++kx) {
                const int64_t iy = oy * p.stride_h - p.pad_h + ky * p.dil_h;
                const int64_t ix = ox * p.stride_w - p.pad_w + kx * p.dil_w;
                if (iy < 0 || iy >= p.h || ix < 0 || ix >= p.w) continue;
                const int64_t xi = ((n * p.c + g * cg + c) * p.h + iy) * p.w + ix;
                const int64_t wi = ((o * cg + c) * p.kh + ky) * p.kw + kx;
                s += double(x[xi]) * w[wi];
                dx[xi] += double(dy[yi]) * w[wi];
                dw[wi] += double(dy[yi]) * x[xi];
              }
          y[yi] = s;
          db[o] += dy[yi];
        }
  DeviceArray dx_in(x, t), dw_in(w, t), dbias(bias, t), ddy(dy, t), dy_out(dy.size(), t),
      dx_out(x.size(), t), dw_out(w.size(), t), db_out(p.o, t);
  dnn::conv_forward(p, dx_in.get(), dw_in.get(), dbias.get(), dy_out.get(), nullptr);
  dnn::conv_backward_data(p, ddy.get(), dw_in.get(), dx_out.get(), nullptr);
  dnn::conv_backward_filter(p, ddy.get(), dx_in.get(), dw_out.get(), nullptr);
  dnn::conv_backward_bias(p, ddy.get(), db_out.get(), nullptr);
  const double tol = t == DType::kF32 ? 1e-5 : 1.2e-2;
  EXPECT_LT(normalised_error(dy_out.download(), y), tol) << "forward " << dtype_name(t);
  EXPECT_LT(normalised_error(dx_out.download(), dx), tol) << "backward data " << dtype_name(t);
  EXPECT_LT(normalised_error(dw_out.download(), dw), tol) << "backward filter " << dtype_name(t);
  EXPECT_LT(normalised_error(db_out.download(), db), tol) << "bias grad " << dtype_name(t);
}

TEST(CudaConv, F32StridePadDilationGroups) {
  check(problem(2, 6, 11, 13, 4, 3, 3, 2, 1, 2, 2, DType::kF32), 1);
  check(problem(3, 5, 9, 7, 7, 1, 1, 1, 0, 1, 1, DType::kF32), 2);
}

TEST(CudaConv, Bf16AndF16) {
  check(problem(2, 16, 12, 12, 32, 3, 3, 1, 1, 1, 1, DType::kBF16), 3);
  check(problem(2, 8, 10, 10, 8, 3, 3, 1, 1, 1, 4, DType::kF16), 4);
}

TEST(CudaConv, Conv1dAsHeightOne) {
  check(problem(2, 8, 1, 50, 12, 1, 5, 2, 2, 1, 1, DType::kF32), 5);
}

}  // namespace
}  // namespace chorus::cuda::test
