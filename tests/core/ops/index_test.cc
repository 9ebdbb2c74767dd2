// gather / scatter_add / index_select / index_add / one_hot: forward against naive loops over
// coordinates, integer and reduced-precision dtypes, threaded paths, errors, gradients.
#include "core/ops/index.h"

#include <gtest/gtest.h>

#include <string>

#include "core/ops/elementwise.h"
#include "core/tensor/philox.h"
#include "test_util.h"

namespace chorus {
namespace {

using testing::AllClose;
using testing::uniform;
using V = std::vector<Tensor>;

// Deterministic random i64 indices in [0, bound).
Tensor random_index(const Shape& shape, int64_t bound, uint64_t seed) {
  std::vector<int64_t> v(static_cast<size_t>(shape_numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) {
    v[i] = static_cast<int64_t>(uniform_from_word(philox_word(seed, 5, i)) * bound) % bound;
  }
  return Tensor::from_vector<int64_t>(v, shape);
}

// Row-major flat offset of `coord` in `shape`.
int64_t flat(const Shape& shape, const Shape& coord) {
  int64_t off = 0;
  for (size_t d = 0; d < shape.size(); ++d) off = off * shape[d] + coord[d];
  return off;
}

// Calls f(coord) for every coordinate of `shape` in row-major order.
template <class F>
void for_each_coord(const Shape& shape, F f) {
  const int64_t n = shape_numel(shape);
  Shape c(shape.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t rem = i;
    for (size_t d = shape.size(); d-- > 0;) c[d] = rem % shape[d], rem /= shape[d];
    f(c);
  }
}

std::vector<double> naive_gather(const Tensor& x, int64_t dim, const Tensor& index) {
  auto vx = x.to_vector<double>();
  auto vi = index.to_vector<int64_t>();
  std::vector<double> out;
  for_each_coord(index.shape(), [&](Shape c) {
    const int64_t i = vi[flat(index.shape(), c)];
    c[dim] = i;
    out.push_back(vx[flat(x.shape(), c)]);
  });
  return out;
}

std::vector<double> naive_scatter_add(const Tensor& x, int64_t dim, const Tensor& index,
                                      const Tensor& src) {
  auto out = x.to_vector<double>();
  auto vi = index.to_vector<int64_t>();
  auto vs = src.to_vector<double>();
  for_each_coord(index.shape(), [&](Shape c) {
    const double s = vs[flat(src.shape(), c)];
    c[dim] = vi[flat(index.shape(), c)];
    out[flat(x.shape(), c)] += s;
  });
  return out;
}

TEST(Gather, MatchesNaiveLoopForEveryDim) {
  Tensor x = uniform({3, 4, 5}, -1, 1, DType::kF64, 1);
  for (int64_t dim = 0; dim < 3; ++dim) {
    // Larger than x along dim, smaller elsewhere (allowed).
    Shape is{2, 3, 4};
    is[dim] = 6;
    Tensor index = random_index(is, x.size(dim), 10 + dim);
    Tensor out = gather(x, dim, index);
    EXPECT_EQ(out.shape(), is);
    EXPECT_EQ(out.to_vector<double>(), naive_gather(x, dim, index)) << "dim " << dim;
    EXPECT_EQ(gather(x, dim - 3, index).to_vector<double>(), out.to_vector<double>());
  }
}

TEST(Gather, NonContiguousOperandsAndOtherDtypes) {
  Tensor x = uniform({5, 4}, -1, 1, DType::kF64, 2).t();  // [4, 5]
  Tensor index = random_index({6, 3}, 5, 3).t();          // [3, 6]
  ASSERT_FALSE(index.is_contiguous());
  EXPECT_EQ(gather(x, 1, index).to_vector<double>(), naive_gather(x, 1, index));
  // Integer values are moved exactly, whatever their magnitude.
  const int64_t big = (int64_t{1} << 62) + 7;
  Tensor li = Tensor::from_vector<int64_t>({big, -1, 3, -big}, {2, 2});
  Tensor g = gather(li, 1, Tensor::from_vector<int64_t>({1, 1, 0, 1, 0, 0}, {2, 3}));
  EXPECT_EQ(g.dtype(), DType::kI64);
  EXPECT_EQ(g.to_vector<int64_t>(), (std::vector<int64_t>{-1, -1, big, -big, 3, 3}));
  Tensor h = Tensor::arange(0, 6, 1, DType::kBF16).reshape({2, 3});
  Tensor hg = gather(h, 0, Tensor::from_vector<int64_t>({1, 0, 1}, {1, 3}));
  EXPECT_EQ(hg.dtype(), DType::kBF16);
  EXPECT_EQ(hg.to_vector<double>(), (std::vector<double>{3, 1, 5}));
  Tensor b = Tensor::from_vector<bool>({true, false, false}, {3});
  EXPECT_EQ(gather(b, 0, Tensor::from_vector<int64_t>({1, 0}, {2})).to_vector<uint8_t>(),
            (std::vector<uint8_t>{0, 1}));
  // A 0-dim input with a 0-dim index, and an empty index.
  EXPECT_EQ(gather(Tensor::scalar(4.0), 0, Tensor::scalar(0, DType::kI64)).item(), 4.0);
  EXPECT_EQ(gather(x, 0, Tensor::empty({0, 5}, DType::kI64)).shape(), (Shape{0, 5}));
}

TEST(Gather, LargeInputUsesThreadsCorrectly) {
  Tensor x = uniform({300, 257}, -1, 1, DType::kF64, 4);
  Tensor index = random_index({400, 257}, 300, 5);
  EXPECT_EQ(gather(x, 0, index).to_vector<double>(), naive_gather(x, 0, index));
}

TEST(ScatterAdd, MatchesNaiveLoopForEveryDim) {
  Tensor x = uniform({3, 4, 5}, -1, 1, DType::kF64, 6);
  for (int64_t dim = 0; dim < 3; ++dim) {
    Shape is{2, 3, 4};
    is[dim] = 7;  // more positions than x has along dim: indices repeat
    Shape ss = is;
    ss[0] += 1, ss[2] += 2;  // src may be larger than index everywhere
    Tensor index = random_index(is, x.size(dim), 20 + dim);
    Tensor src = uniform(ss, -1, 1, DType::kF64, 30 + dim);
    Tensor out = scatter_add(x, dim, index, src);
    EXPECT_EQ(out.shape(), x.shape());
    EXPECT_TRUE(AllClose(out, testing::from(naive_scatter_add(x, dim, index, src), x.shape()),
                         1e-12, 1e-12))
        << "dim " << dim;
  }
}

TEST(ScatterAdd, IntegerAndReducedPrecision) {
  Tensor x = Tensor::from_vector<int64_t>({1, 2, 3}, {3});
  Tensor index = Tensor::from_vector<int64_t>({0, 2, 0, 0}, {4});
  const int64_t big = int64_t{1} << 60;
  Tensor src = Tensor::from_vector<int64_t>({10, 20, 30, big}, {4});
  Tensor out = scatter_add(x, 0, index, src);
  EXPECT_EQ(out.dtype(), DType::kI64);
  EXPECT_EQ(out.to_vector<int64_t>(), (std::vector<int64_t>{41 + big, 2, 23}));
  Tensor i32 =
      scatter_add(Tensor::zeros({3}, DType::kI32), 0, index, Tensor::full({4}, 2, DType::kI32));
  EXPECT_EQ(i32.to_vector<int32_t>(), (std::vector<int32_t>{6, 0, 2}));
  // bf16 adds in f32 and rounds once: 256 + 1 + 1 = 258 is representable, 257 is not.
  Tensor h =
      scatter_add(Tensor::full({1}, 256, DType::kBF16), 0,
                  Tensor::from_vector<int64_t>({0, 0}, {2}), Tensor::ones({2}, DType::kBF16));
  EXPECT_EQ(h.dtype(), DType::kBF16);
  EXPECT_EQ(h.to_vector<double>(), (std::vector<double>{258}));
  // The input is not modified.
  EXPECT_EQ(x.to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 3}));
}

TEST(ScatterAdd, ThreadedPathsHaveNoRaces) {
  // Integer sums are exact, so any lost update from a race shows as a mismatch.
  for (int64_t dim : {0, 1}) {
    Shape xs{64, 64}, is{64, 64};
    xs[dim] = 8;     // many hits per output element
    is[dim] = 1200;  // enough work for several threads
    Tensor x = Tensor::zeros(xs, DType::kI64);
    Tensor index = random_index(is, 8, 40 + dim);
    Tensor src = random_index(is, 1000, 50 + dim);
    Tensor out = scatter_add(x, dim, index, src);
    std::vector<int64_t> want(static_cast<size_t>(x.numel()), 0);
    auto vi = index.to_vector<int64_t>(), vs = src.to_vector<int64_t>();
    for (int64_t i = 0; i < is[0]; ++i)
      for (int64_t j = 0; j < is[1]; ++j) {
        const int64_t t = vi[i * is[1] + j];
        want[dim == 0 ? t * xs[1] + j : i * xs[1] + t] += vs[i * is[1] + j];
      }
    EXPECT_EQ(out.to_vector<int64_t>(), want) << "dim " << dim;
  }
}

TEST(IndexSelect, MatchesNaiveLoop) {
  Tensor x = uniform({3, 4, 5}, -1, 1, DType::kF64, 7);
  auto vx = x.to_vector<double>();
  for (int64_t dim = 0; dim < 3; ++dim) {
    Tensor index = random_index({7}, x.size(dim), 60 + dim);
    Tensor out = index_select(x, dim, index);
    Shape want_shape = x.shape();
    want_shape[dim] = 7;
    ASSERT_EQ(out.shape(), want_shape);
    auto vi = index.to_vector<int64_t>();
    std::vector<double> want;
    for_each_coord(want_shape, [&](Shape c) {
      c[dim] = vi[c[dim]];
      want.push_back(vx[flat(x.shape(), c)]);
    });
    EXPECT_EQ(out.to_vector<double>(), want) << "dim " << dim;
  }
}

TEST(IndexSelect, IndexKindsAndDtypes) {
  Tensor x = Tensor::arange(0, 12).reshape({3, 4});  // i64
  Tensor i32 = Tensor::from_vector<int32_t>({2, 0, 2}, {3});
  EXPECT_EQ(index_select(x, 0, i32).to_vector<int64_t>(),
            (std::vector<int64_t>{8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11}));
  // A 0-dim index keeps the dim with size 1.
  Tensor one = index_select(x, 1, Tensor::scalar(3, DType::kI64));
  EXPECT_EQ(one.shape(), (Shape{3, 1}));
  EXPECT_EQ(one.to_vector<int64_t>(), (std::vector<int64_t>{3, 7, 11}));
  // Non-contiguous input, non-contiguous index.
  Tensor t = x.t();                                                              // [4, 3]
  Tensor idx = Tensor::from_vector<int64_t>({1, 9, 0, 9}, {2, 2}).select(1, 0);  // {1, 0}
  EXPECT_EQ(index_select(t, 1, idx).to_vector<int64_t>(),
            (std::vector<int64_t>{4, 0, 5, 1, 6, 2, 7, 3}));
  EXPECT_EQ(index_select(x, 1, Tensor::empty({0}, DType::kI64)).shape(), (Shape{3, 0}));
  Tensor h = index_select(Tensor::arange(0, 4, 1, DType::kF16), 0, i32.slice(0, 0, 2));
  EXPECT_EQ(h.dtype(), DType::kF16);
  EXPECT_EQ(h.to_vector<double>(), (std::vector<double>{2, 0}));
}

TEST(IndexAdd, MatchesNaiveLoopIncludingRepeats) {
  Tensor x = uniform({3, 4, 5}, -1, 1, DType::kF64, 8);
  for (int64_t dim = 0; dim < 3; ++dim) {
    Tensor index = random_index({9}, x.size(dim), 70 + dim);  // repeats: 9 > size
    Shape ss = x.shape();
    ss[dim] = 9;
    Tensor src = uniform(ss, -1, 1, DType::kF64, 80 + dim);
    auto want = x.to_vector<double>();
    auto vi = index.to_vector<int64_t>();
    auto vs = src.to_vector<double>();
    for_each_coord(ss, [&](Shape c) {
      const double s = vs[flat(ss, c)];
      c[dim] = vi[c[dim]];
      want[flat(x.shape(), c)] += s;
    });
    EXPECT_TRUE(
        AllClose(index_add(x, dim, index, src), testing::from(want, x.shape()), 1e-12, 1e-12))
        << "dim " << dim;
  }
}

TEST(IndexAdd, ThreadedPathsHaveNoRaces) {
  for (int64_t dim : {0, 1}) {
    Shape xs{6, 6};
    Shape ss = xs;
    ss[dim] = 5000;
    ss[1 - dim] = dim == 0 ? 300 : 6;
    xs[1 - dim] = ss[1 - dim];
    Tensor index = random_index({5000}, 6, 90 + dim);
    Tensor src = random_index(ss, 100, 95 + dim);
    Tensor out = index_add(Tensor::zeros(xs, DType::kI64), dim, index, src);
    std::vector<int64_t> want(static_cast<size_t>(shape_numel(xs)), 0);
    auto vi = index.to_vector<int64_t>(), vs = src.to_vector<int64_t>();
    for (int64_t i = 0; i < ss[0]; ++i)
      for (int64_t j = 0; j < ss[1]; ++j) {
        const int64_t r = dim == 0 ? vi[i] : i, c = dim == 1 ? vi[j] : j;
        want[r * xs[1] + c] += vs[i * ss[1] + j];
      }
    EXPECT_EQ(out.to_vector<int64_t>(), want) << "dim " << dim;
  }
}

TEST(OneHot, ValuesAndInferredClassCount) {
  Tensor idx = Tensor::from_vector<int64_t>({2, 0, 1, 2}, {2, 2});
  Tensor out = one_hot(idx, 4);
  EXPECT_EQ(out.dtype(), DType::kI64);
  EXPECT_EQ(out.shape(), (Shape{2, 2, 4}));
  EXPECT_EQ(out.to_vector<int64_t>(),
            (std::vector<int64_t>{0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}));
  EXPECT_EQ(one_hot(idx).shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(one_hot(Tensor::from_vector<int32_t>({1}, {1})).to_vector<int64_t>(),
            (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(one_hot(Tensor::empty({0}, DType::kI64), 3).shape(), (Shape{0, 3}));
  EXPECT_EQ(one_hot(Tensor::scalar(1, DType::kI64), 2).to_vector<int64_t>(),
            (std::vector<int64_t>{0, 1}));
}

// Runs f, expecting chorus::Error whose message contains `needle`.
template <class F>
void expect_error(F f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "expected an error containing \"" << needle << "\"";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Index, ErrorsAreClear) {
  Tensor x = Tensor::zeros({3, 4}, DType::kF64);
  Tensor bad = Tensor::from_vector<int64_t>({0, 1, 4, 0}, {2, 2});
  expect_error([&] { gather(x, 1, bad); },
               "gather: index 4 is out of range for dim 1 of size 4 (at index position [1, 0])");
  expect_error(
      [&] {
        gather(x, 0, Tensor::from_vector<int64_t>({-1}, {1, 1}));
      },
      "index -1 is out of range for dim 0 of size 3");
  expect_error([&] { gather(x, 1, bad.to(DType::kI32)); }, "index must be i64, got i32");
  expect_error([&] { gather(x, 1, bad.reshape({4})); }, "same number of dims");
  expect_error([&] { gather(x, 1, Tensor::zeros({4, 1}, DType::kI64)); }, "larger than input");
  EXPECT_THROW(gather(x, 2, bad), Error);

  expect_error(
      [&] {
        scatter_add(x, 1, bad, Tensor::zeros({2, 2}, DType::kF64));
      },
      "scatter_add: index 4 is out of range");
  expect_error(
      [&] {
        scatter_add(x, 0, bad.slice(1, 0, 1), Tensor::zeros({2, 1}, DType::kF32));
      },
      "same dtype");
  expect_error(
      [&] {
        scatter_add(x, 0, Tensor::zeros({2, 2}, DType::kI64), Tensor::zeros({1, 2}, DType::kF64));
      },
      "larger than src");
  expect_error(
      [&] {
        scatter_add(x, 1, Tensor::zeros({4, 1}, DType::kI64), Tensor::zeros({4, 1}, DType::kF64));
      },
      "larger than src");
  expect_error(
      [&] {
        scatter_add(Tensor::zeros({2}, DType::kBool), 0, Tensor::zeros({1}, DType::kI64),
                    Tensor::zeros({1}, DType::kBool));
      },
      "bool");

  expect_error(
      [&] {
        index_select(x, 0, Tensor::from_vector<int64_t>({0, 3}, {2}));
      },
      "index_select: index 3 is out of range for dim 0 of size 3 (at index position [1])");
  expect_error([&] { index_select(x, 0, bad); }, "must be 1-D");
  expect_error([&] { index_select(x, 0, Tensor::zeros({1}, DType::kF32)); }, "i64 or i32");
  expect_error(
      [&] {
        index_add(x, 0, Tensor::zeros({2}, DType::kI64), Tensor::zeros({3, 4}, DType::kF64));
      },
      "index_add: src [3, 4] must be [2, 4]");
  expect_error(
      [&] {
        index_add(x, 1, Tensor::full({1}, 4, DType::kI64), Tensor::zeros({3, 1}, DType::kF64));
      },
      "out of range");

  expect_error(
      [&] {
        one_hot(Tensor::from_vector<int64_t>({0, 3}, {2}), 3);
      },
      "one_hot: index 3 is out of range for 3 classes");
  expect_error([&] { one_hot(Tensor::from_vector<int64_t>({-1}, {1}), 3); }, "index -1");
  expect_error([&] { one_hot(Tensor::zeros({2}), 3); }, "integer tensor");
  expect_error([&] { one_hot(Tensor::empty({0}, DType::kI64)); }, "cannot infer num_classes");
}

TEST(Index, GradientsMatchFiniteDifferences) {
  Tensor x = uniform({3, 4}, -1, 1, DType::kF64, 9);
  // Repeated indices: gradients of several outputs add into one input element.
  Tensor g0 = Tensor::from_vector<int64_t>({0, 2, 1, 0, 2, 2, 1, 1, 0, 0, 0, 0}, {4, 3});
  Tensor g1 = Tensor::from_vector<int64_t>({3, 3, 0, 1, 1, 1}, {3, 2});
  EXPECT_GRADCHECK([&](const V& v) { return gather(v[0], 0, g0); }, {x});
  EXPECT_GRADCHECK([&](const V& v) { return gather(v[0], 1, g1); }, {x});
  EXPECT_GRADCHECK([&](const V& v) { return gather(v[0].t(), 0, g1); }, {x});

  Tensor src = uniform({3, 3}, -1, 1, DType::kF64, 10);  // larger than the index in dim 1
  Tensor si = Tensor::from_vector<int64_t>({1, 1, 2, 0, 0, 1}, {2, 3});
  Tensor si1 = Tensor::from_vector<int64_t>({3, 3, 0, 2}, {2, 2});
  EXPECT_GRADCHECK([&](const V& v) { return scatter_add(v[0], 0, si, v[1]); }, {x, src});
  EXPECT_GRADCHECK([&](const V& v) { return scatter_add(v[0], 1, si1, v[1]); }, {x, src});
  EXPECT_GRADCHECK([&](const V& v) { return mul(scatter_add(v[0], 1, si1, v[1]), v[0]); },
                   {x, src});

  Tensor ii = Tensor::from_vector<int64_t>({2, 0, 2, 2}, {4});
  EXPECT_GRADCHECK([&](const V& v) { return index_select(v[0], 0, ii); }, {x});
  EXPECT_GRADCHECK([&](const V& v) { return index_select(v[0], 1, ii); }, {x});
  Tensor add_src = uniform({4, 4}, -1, 1, DType::kF64, 11);
  EXPECT_GRADCHECK([&](const V& v) { return index_add(v[0], 0, ii, v[1]); }, {x, add_src});
  EXPECT_GRADCHECK([&](const V& v) { return index_add(v[0], 1, ii, v[1].t().slice(0, 0, 3)); },
                   {x, add_src});
}

}  // namespace
}  // namespace chorus
