// conv1d / conv2d against a direct-convolution loop (forward and backward), gradient checks,
// geometry variants (stride, padding, dilation, groups, 1×1) and bad inputs.
#include "core/ops/conv.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace chorus {
namespace {

using testing::AllClose;
using testing::uniform;
using V = std::vector<Tensor>;

struct Geometry {
  int64_t n, c, h, w, o, kh, kw;
  Conv2dOptions opt;
  int64_t oh() const {
    return (h + 2 * opt.padding[0] - opt.dilation[0] * (kh - 1) - 1) / opt.stride[0] + 1;
  }
  int64_t ow() const {
    return (w + 2 * opt.padding[1] - opt.dilation[1] * (kw - 1) - 1) / opt.stride[1] + 1;
  }
};

// Calls f(x_index, w_index, out_index) for every multiply-add of the direct convolution.
template <class F>
void visit(const Geometry& g, F f) {
  const int64_t cg = g.c / g.opt.groups, og = g.o / g.opt.groups;
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t o = 0; o < g.o; ++o)
      for (int64_t oy = 0; oy < g.oh(); ++oy)
        for (int64_t ox = 0; ox < g.ow(); ++ox)
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t ki = 0; ki < g.kh; ++ki)
              for (int64_t kj = 0; kj < g.kw; ++kj) {
                const int64_t iy = oy * g.opt.stride[0] - g.opt.padding[0] + ki * g.opt.dilation[0];
                const int64_t ix = ox * g.opt.stride[1] - g.opt.padding[1] + kj * g.opt.dilation[1];
                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                const int64_t c = (o / og) * cg + ci;
                f(((n * g.c + c) * g.h + iy) * g.w + ix, ((o * cg + ci) * g.kh + ki) * g.kw + kj,
                  ((n * g.o + o) * g.oh() + oy) * g.ow() + ox);
              }
}

Tensor naive_conv(const Geometry& g, const Tensor& x, const Tensor& w, const Tensor& b) {
  const auto vx = x.to_vector<double>(), vw = w.to_vector<double>();
  std::vector<double> out(static_cast<size_t>(g.n * g.o * g.oh() * g.ow()), 0.0);
  if (b.defined()) {
    const auto vb = b.to_vector<double>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = vb[(i / (g.oh() * g.ow())) % g.o];
  }
  visit(g, [&](int64_t xi, int64_t wi, int64_t oi) { out[oi] += vx[xi] * vw[wi]; });
  return Tensor::from_doubles(out, {g.n, g.o, g.oh(), g.ow()}, DType::kF64);
}

struct Made {
  Tensor x, w, b;
};
Made make(const Geometry& g, DType dtype, bool bias, uint64_t seed) {
  return {uniform({g.n, g.c, g.h, g.w}, -1, 1, dtype, seed),
          uniform({g.o, g.c / g.opt.groups, g.kh, g.kw}, -1, 1, dtype, seed + 1),
          bias ? uniform({g.o}, -1, 1, dtype, seed + 2) : Tensor()};
}

Conv2dOptions options(std::array<int64_t, 2> stride, std::array<int64_t, 2> pad,
                      std::array<int64_t, 2> dil, int64_t groups) {
  Conv2dOptions o;
  o.stride = stride;
  o.padding = pad;
  o.dilation = dil;
  o.groups = groups;
  return o;
}

std::vector<Geometry> geometries() {
  return {
      {2, 3, 7, 6, 4, 3, 3, options({1, 1}, {0, 0}, {1, 1}, 1)},
      {3, 3, 9, 8, 5, 3, 3, options({2, 2}, {1, 1}, {1, 1}, 1)},
      {2, 2, 11, 9, 3, 3, 2, options({1, 2}, {2, 1}, {2, 3}, 1)},
      {2, 4, 6, 7, 6, 3, 3, options({1, 1}, {1, 1}, {1, 1}, 2)},
      {2, 4, 6, 5, 4, 3, 3, options({2, 1}, {1, 1}, {1, 1}, 4)},  // depthwise
      {2, 5, 6, 7, 3, 1, 1, options({1, 1}, {0, 0}, {1, 1}, 1)},  // 1×1: no im2col
      {2, 4, 7, 7, 6, 1, 1, options({2, 2}, {0, 0}, {1, 1}, 2)},  // 1×1 strided
      {1, 3, 5, 5, 2, 5, 5, options({1, 1}, {2, 2}, {1, 1}, 1)},  // kernel = input
  };
}

TEST(Conv2d, MatchesDirectConvolution) {
  const std::vector<Geometry> all = geometries();
  for (size_t i = 0; i < all.size(); ++i) {
    const Geometry& g = all[i];
    for (bool bias : {true, false}) {
      const Made m = make(g, DType::kF32, bias, 3 * i + 1);
      Tensor out = conv2d(m.x, m.w, m.b, g.opt);
      EXPECT_TRUE(AllClose(out, naive_conv(g, m.x, m.w, m.b), 1e-5, 1e-5))
          << "geometry " << i << " bias " << bias;
    }
  }
}

TEST(Conv2d, LargeConvolutionAndF64) {
  // Per-sample GEMMs big enough for OpenBLAS's threads (the serial-over-samples path).
  Geometry g{2, 16, 20, 18, 32, 3, 3, options({1, 1}, {1, 1}, {1, 1}, 1)};
  const Made m = make(g, DType::kF32, true, 40);
  EXPECT_TRUE(AllClose(conv2d(m.x, m.w, m.b, g.opt), naive_conv(g, m.x, m.w, m.b), 1e-4, 1e-4));
  Geometry h{2, 4, 6, 7, 6, 3, 3, options({2, 1}, {1, 0}, {1, 2}, 2)};
  const Made d = make(h, DType::kF64, true, 44);
  EXPECT_TRUE(AllClose(conv2d(d.x, d.w, d.b, h.opt), naive_conv(h, d.x, d.w, d.b), 1e-13));
}

// Backward against the adjoint of the direct loop, for the pooled and the serial path.
void expect_backward_matches(const Geometry& g, uint64_t seed) {
  Made m = make(g, DType::kF32, true, seed);
  m.x.set_requires_grad();
  m.w.set_requires_grad();
  m.b.set_requires_grad();
  Tensor gout = uniform({g.n, g.o, g.oh(), g.ow()}, -1, 1, DType::kF32, seed + 9);
  conv2d(m.x, m.w, m.b, g.opt).backward(gout);
  const auto vx = m.x.detach().to_vector<double>(), vw = m.w.detach().to_vector<double>(),
             vg = gout.to_vector<double>();
  std::vector<double> gx(vx.size(), 0.0), gw(vw.size(), 0.0), gb(g.o, 0.0);
  visit(g, [&](int64_t xi, int64_t wi, int64_t oi) {
    gx[xi] += vw[wi] * vg[oi];
    gw[wi] += vx[xi] * vg[oi];
  });
  for (size_t i = 0; i < vg.size(); ++i) gb[(i / (g.oh() * g.ow())) % g.o] += vg[i];
  EXPECT_TRUE(AllClose(m.x.grad(), Tensor::from_doubles(gx, m.x.shape(), DType::kF64), 1e-4));
  EXPECT_TRUE(AllClose(m.w.grad(), Tensor::from_doubles(gw, m.w.shape(), DType::kF64), 1e-4));
  EXPECT_TRUE(AllClose(m.b.grad(), Tensor::from_doubles(gb, {g.o}, DType::kF64), 1e-4));
}

TEST(Conv2d, BackwardMatchesDirectAdjoint) {
  expect_backward_matches({4, 3, 9, 8, 4, 3, 3, options({2, 1}, {1, 1}, {1, 2}, 1)}, 50);
  expect_backward_matches({3, 16, 20, 18, 32, 3, 3, options({1, 1}, {1, 1}, {1, 1}, 2)}, 60);
  expect_backward_matches({3, 8, 12, 12, 16, 1, 1, options({1, 1}, {0, 0}, {1, 1}, 1)}, 70);
}

TEST(Conv2d, Gradcheck) {
  for (const Geometry& g : {Geometry{2, 2, 5, 4, 2, 3, 2, options({2, 1}, {1, 1}, {1, 2}, 1)},
                            Geometry{1, 4, 4, 4, 2, 2, 2, options({1, 1}, {1, 0}, {1, 1}, 2)},
                            Geometry{2, 3, 3, 3, 2, 1, 1, options({1, 1}, {0, 0}, {1, 1}, 1)}}) {
    const Made m = make(g, DType::kF64, true, 80);
    EXPECT_GRADCHECK([&](const V& v) { return conv2d(v[0], v[1], v[2], g.opt); }, {m.x, m.w, m.b});
  }
}

TEST(Conv2d, UnbatchedInput) {
  Geometry g{1, 3, 6, 5, 2, 3, 3, options({1, 1}, {1, 1}, {1, 1}, 1)};
  const Made m = make(g, DType::kF64, true, 90);
  Tensor out = conv2d(m.x.reshape({3, 6, 5}), m.w, m.b, g.opt);
  EXPECT_EQ(out.shape(), (Shape{2, 6, 5}));
  EXPECT_TRUE(AllClose(out, naive_conv(g, m.x, m.w, m.b).reshape({2, 6, 5}), 1e-13));
  EXPECT_GRADCHECK([&](const V& v) { return conv2d(v[0], v[1], v[2], g.opt); },
                   {m.x.reshape({3, 6, 5}), m.w, m.b});
}

TEST(Conv2d, ReducedPrecision) {
  Geometry g{2, 3, 7, 6, 4, 3, 3, options({1, 1}, {1, 1}, {1, 1}, 1)};
  const Made m = make(g, DType::kBF16, true, 95);
  Tensor out = conv2d(m.x, m.w, m.b, g.opt);
  EXPECT_EQ(out.dtype(), DType::kBF16);
  EXPECT_TRUE(AllClose(out, naive_conv(g, m.x, m.w, m.b), 3e-2, 1e-2));
}

TEST(Conv1d, MatchesDirectConvolutionAndGradcheck) {
  // conv1d([N, C, L]) is conv2d on [N, C, 1, L].
  Geometry g{2, 4, 1, 13, 6, 1, 3, options({1, 2}, {0, 2}, {1, 2}, 2)};
  const Made m = make(g, DType::kF64, true, 100);
  Conv1dOptions o{2, 2, 2, 2};
  Tensor x = m.x.reshape({2, 4, 13}), w = m.w.reshape({6, 2, 3});
  Tensor out = conv1d(x, w, m.b, o);
  EXPECT_EQ(out.shape(), (Shape{2, 6, g.ow()}));
  EXPECT_TRUE(AllClose(out, naive_conv(g, m.x, m.w, m.b).reshape({2, 6, g.ow()}), 1e-13));
  EXPECT_GRADCHECK([&](const V& v) { return conv1d(v[0], v[1], v[2], o); }, {x, w, m.b});
  EXPECT_GRADCHECK([](const V& v) { return conv1d(v[0], v[1]); },
                   {uniform({5, 7}, -1, 1, DType::kF64, 101),  // unbatched
                    uniform({3, 5, 2}, -1, 1, DType::kF64, 102)});
}

TEST(Conv2d, BadInputsThrow) {
  Tensor x = Tensor::ones({1, 4, 5, 5});
  EXPECT_THROW(conv2d(x, Tensor::ones({2, 3, 3, 3})), Error);  // channels
  EXPECT_THROW(conv2d(x, Tensor::ones({3, 2, 3, 3}), Tensor(), options({1, 1}, {0, 0}, {1, 1}, 2)),
               Error);                                                            // O % groups
  EXPECT_THROW(conv2d(x, Tensor::ones({2, 4, 7, 7})), Error);                     // kernel > input
  EXPECT_THROW(conv2d(x, Tensor::ones({2, 4, 3, 3}, DType::kF64)), Error);        // dtypes
  EXPECT_THROW(conv2d(x, Tensor::ones({2, 4, 3, 3}), Tensor::ones({3})), Error);  // bias
  EXPECT_THROW(conv2d(x, Tensor::ones({2, 4, 3, 3}), Tensor(), options({0, 1}, {0, 0}, {1, 1}, 1)),
               Error);  // stride 0
  EXPECT_THROW(conv2d(Tensor::ones({4, 5}), Tensor::ones({2, 4, 3, 3})), Error);
  EXPECT_THROW(conv1d(Tensor::ones({1, 4, 5}), Tensor::ones({2, 4, 3, 3})), Error);
}

}  // namespace
}  // namespace chorus
