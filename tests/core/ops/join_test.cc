// concat / stack / split / chunk: forward against naive loops, dtype promotion, empty
// tensors, views, errors, and gradients (including splits whose pieces are used partly).
#include "core/ops/join.h"

#include <gtest/gtest.h>

#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "test_util.h"

namespace chorus {
namespace {

using testing::AllClose;
using testing::uniform;
using V = std::vector<Tensor>;

// Naive concat of 3-D tensors along `dim`: walks the output coordinates and finds the source.
std::vector<double> naive_concat3(const std::vector<Tensor>& ts, int dim) {
  std::vector<std::vector<double>> vals;
  for (const Tensor& t : ts) vals.push_back(t.to_vector<double>());
  Shape out = ts[0].shape();
  out[dim] = 0;
  for (const Tensor& t : ts) out[dim] += t.shape()[dim];
  std::vector<double> result;
  for (int64_t i = 0; i < out[0]; ++i)
    for (int64_t j = 0; j < out[1]; ++j)
      for (int64_t k = 0; k < out[2]; ++k) {
        int64_t c[3] = {i, j, k};
        size_t t = 0;
        while (c[dim] >= ts[t].shape()[dim]) c[dim] -= ts[t++].shape()[dim];
        const Shape& s = ts[t].shape();
        result.push_back(vals[t][(c[0] * s[1] + c[1]) * s[2] + c[2]]);
      }
  return result;
}

TEST(Concat, MatchesNaiveLoopAlongEveryDim) {
  for (int dim = 0; dim < 3; ++dim) {
    Shape sa{2, 3, 4}, sb{2, 3, 4}, sc{2, 3, 4};
    sa[dim] = 1, sb[dim] = 3, sc[dim] = 2;
    V ts = {uniform(sa, -1, 1, DType::kF64, 1), uniform(sb, -1, 1, DType::kF64, 2),
            uniform(sc, -1, 1, DType::kF64, 3)};
    Tensor out = concat(ts, dim);
    Shape want = sa;
    want[dim] = 6;
    EXPECT_EQ(out.shape(), want);
    EXPECT_EQ(out.to_vector<double>(), naive_concat3(ts, dim)) << "dim " << dim;
    EXPECT_EQ(concat(ts, dim - 3).to_vector<double>(), out.to_vector<double>());
  }
}

TEST(Concat, NonContiguousInputs) {
  Tensor a = uniform({4, 2}, -1, 1, DType::kF64, 4).t();                // [2, 4]
  Tensor b = uniform({2, 6}, -1, 1, DType::kF64, 5).slice(1, 0, 6, 2);  // [2, 3]
  Tensor out = concat({a, b}, 1);
  auto va = a.to_vector<double>(), vb = b.to_vector<double>(), vo = out.to_vector<double>();
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 4; ++j) EXPECT_EQ(vo[i * 7 + j], va[i * 4 + j]);
    for (int j = 0; j < 3; ++j) EXPECT_EQ(vo[i * 7 + 4 + j], vb[i * 3 + j]);
  }
}

TEST(Concat, PromotesDtypesAndKeepsIntegersExact) {
  Tensor i = Tensor::from_vector<int32_t>({1, 2, 3}, {3});
  Tensor f = Tensor::from_vector<float>({0.5f}, {1});
  Tensor out = concat({i, f});
  EXPECT_EQ(out.dtype(), DType::kF32);
  EXPECT_EQ(out.to_vector<double>(), (std::vector<double>{1, 2, 3, 0.5}));
  // i64 values beyond 2^53 must survive (no detour through double).
  const int64_t big = (int64_t{1} << 62) + 1;
  Tensor l = Tensor::from_vector<int64_t>({big, -big}, {2, 1});
  Tensor o = concat({l, l}, 1);
  EXPECT_EQ(o.dtype(), DType::kI64);
  EXPECT_EQ(o.to_vector<int64_t>(), (std::vector<int64_t>{big, big, -big, -big}));
  EXPECT_EQ(concat({Tensor::ones({2}, DType::kBF16), Tensor::ones({1}, DType::kF16)}).dtype(),
            DType::kF32);
  EXPECT_EQ(concat({Tensor::ones({2}, DType::kI64), Tensor::ones({1}, DType::kF64)}).dtype(),
            DType::kF64);
}

TEST(Concat, EmptyTensors) {
  Tensor a = uniform({2, 3}, -1, 1, DType::kF64, 6);
  // Legacy 1-D empty tensors are skipped whatever the others' rank (as in PyTorch).
  Tensor e = Tensor::empty({0}, DType::kF64);
  EXPECT_EQ(concat({e, a, e}).to_vector<double>(), a.to_vector<double>());
  EXPECT_EQ(concat({e, a}, 1).shape(), (Shape{2, 3}));
  // Zero-size parts of the right rank join normally.
  EXPECT_EQ(concat({Tensor::empty({2, 0}, DType::kF64), a}, 1).to_vector<double>(),
            a.to_vector<double>());
  EXPECT_EQ(concat({Tensor::empty({0, 3}, DType::kF64), a}, 0).shape(), (Shape{2, 3}));
  EXPECT_EQ(concat({e, e}).shape(), (Shape{0}));
  EXPECT_EQ(concat({Tensor::empty({2, 0}), Tensor::empty({2, 0})}, 0).shape(), (Shape{4, 0}));
}

TEST(Concat, Errors) {
  Tensor a = Tensor::zeros({2, 3});
  EXPECT_THROW(concat({}), Error);
  EXPECT_THROW(concat({a, Tensor::zeros({2, 4})}, 0), Error);
  EXPECT_THROW(concat({a, Tensor::zeros({2, 3, 1})}, 0), Error);
  EXPECT_THROW(concat({a, Tensor()}, 0), Error);
  EXPECT_THROW(concat({a, a}, 2), Error);
  EXPECT_THROW(concat({Tensor::scalar(1.0), Tensor::scalar(2.0)}), Error);
  try {
    concat({a, Tensor::zeros({3, 3})}, 1);
    FAIL() << "expected an error";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("tensor 1 has shape [3, 3]"), std::string::npos)
        << err.what();
  }
}

TEST(Stack, MatchesNaiveLoop) {
  V ts = {uniform({2, 3}, -1, 1, DType::kF64, 7), uniform({2, 3}, -1, 1, DType::kF64, 8),
          uniform({2, 3}, -1, 1, DType::kF64, 9), uniform({2, 3}, -1, 1, DType::kF64, 10)};
  std::vector<std::vector<double>> v;
  for (const Tensor& t : ts) v.push_back(t.to_vector<double>());
  for (int64_t dim : {0, 1, 2, -1, -3}) {
    Tensor out = stack(ts, dim);
    const int64_t d = dim < 0 ? dim + 3 : dim;
    Shape want{2, 3};
    want.insert(want.begin() + d, 4);
    ASSERT_EQ(out.shape(), want) << dim;
    auto vo = out.to_vector<double>();
    size_t p = 0;
    for (int64_t a = 0; a < want[0]; ++a)
      for (int64_t b = 0; b < want[1]; ++b)
        for (int64_t c = 0; c < want[2]; ++c) {
          int64_t coord[3] = {a, b, c};
          const int64_t t = coord[d];
          int64_t rest[2], r = 0;
          for (int k = 0; k < 3; ++k)
            if (k != d) rest[r++] = coord[k];
          EXPECT_EQ(vo[p++], v[t][rest[0] * 3 + rest[1]]);
        }
  }
  // Scalars stack into a vector; integers stay integers.
  Tensor s = stack({Tensor::scalar(1, DType::kI32), Tensor::scalar(7, DType::kI32)});
  EXPECT_EQ(s.dtype(), DType::kI32);
  EXPECT_EQ(s.to_vector<int32_t>(), (std::vector<int32_t>{1, 7}));
  EXPECT_THROW(stack({}), Error);
  EXPECT_THROW(stack({ts[0], Tensor::zeros({3, 2})}), Error);
  EXPECT_THROW(stack(ts, 3), Error);
}

TEST(Split, PiecesAreViewsWithTheRightValues) {
  Tensor x = Tensor::arange(0, 21, 1, DType::kF64).reshape({3, 7});
  V pieces = split(x, 3, 1);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(pieces[0].shape(), (Shape{3, 3}));
  EXPECT_EQ(pieces[2].shape(), (Shape{3, 1}));
  EXPECT_EQ(pieces[1].to_vector<double>(), (std::vector<double>{3, 4, 5, 10, 11, 12, 17, 18, 19}));
  EXPECT_EQ(pieces[2].to_vector<double>(), (std::vector<double>{6, 13, 20}));
  for (const Tensor& p : pieces) EXPECT_EQ(p.storage(), x.storage());

  V sized = split(x, std::vector<int64_t>{1, 0, 2}, 0);
  ASSERT_EQ(sized.size(), 3u);
  EXPECT_EQ(sized[1].shape(), (Shape{0, 7}));
  EXPECT_EQ(sized[2].to_vector<double>(), x.slice(0, 1, 3).to_vector<double>());
  EXPECT_EQ(split(x, 7, -1).size(), 1u);
  EXPECT_EQ(split(x, 100, 1)[0].shape(), (Shape{3, 7}));
  // A dim of size 0 gives one empty piece.
  EXPECT_EQ(split(Tensor::zeros({0, 2}), 2, 0).size(), 1u);
  // Integer tensors split too.
  V ip = split(Tensor::arange(0, 5), 2);
  EXPECT_EQ(ip[2].to_vector<int64_t>(), (std::vector<int64_t>{4}));
}

TEST(Split, Errors) {
  Tensor x = Tensor::zeros({3, 4});
  EXPECT_THROW(split(x, 0, 1), Error);
  EXPECT_THROW(split(x, -1, 1), Error);
  EXPECT_THROW(split(x, std::vector<int64_t>{1, 2}, 1), Error);
  EXPECT_THROW(split(x, std::vector<int64_t>{5, -1}, 1), Error);
  EXPECT_THROW(split(x, 1, 2), Error);
  EXPECT_THROW(split(Tensor::scalar(1.0), 1), Error);
}

TEST(Chunk, SizesFollowPyTorch) {
  auto sizes = [](int64_t n, int64_t chunks) {
    std::vector<int64_t> s;
    for (const Tensor& p : chunk(Tensor::zeros({2, n}), chunks, 1)) s.push_back(p.size(1));
    return s;
  };
  EXPECT_EQ(sizes(6, 3), (std::vector<int64_t>{2, 2, 2}));
  EXPECT_EQ(sizes(5, 4), (std::vector<int64_t>{2, 2, 1}));  // fewer pieces than asked
  EXPECT_EQ(sizes(2, 5), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(sizes(0, 3), (std::vector<int64_t>{0, 0, 0}));
  EXPECT_THROW(chunk(Tensor::zeros({3}), 0), Error);
}

TEST(Split, GradientsFromSeveralPiecesAccumulate) {
  Tensor x = uniform({6}, -1, 1, DType::kF64, 11);
  x.set_requires_grad();
  V p = split(x, 2);
  // p0 used twice, p2 once, p1 never.
  Tensor loss = add(sum(mul(p[0], 3.0)), add(sum(p[2]), sum(p[0])));
  loss.backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{4, 4, 0, 0, 1, 1}));

  // Backward from two pieces separately adds into the same .grad (retain_graph: the pieces
  // share one node).
  Tensor y = uniform({4}, -1, 1, DType::kF64, 12);
  y.set_requires_grad();
  V q = chunk(y, 2);
  sum(q[0]).backward(Tensor(), /*retain_graph=*/true);
  mul(sum(q[1]), 5.0).backward();
  EXPECT_EQ(y.grad().to_vector<double>(), (std::vector<double>{1, 1, 5, 5}));
}

TEST(Concat, GradientsReachOnlyInputsThatNeedThem) {
  Tensor a = uniform({2, 2}, -1, 1, DType::kF64, 13);
  Tensor b = uniform({2, 3}, -1, 1, DType::kF64, 14);
  a.set_requires_grad();
  Tensor out = concat({a, b, Tensor::empty({0}, DType::kF64)}, 1);
  ASSERT_TRUE(out.requires_grad());
  sum(mul(out, out)).backward();
  EXPECT_TRUE(AllClose(a.grad(), mul(a.detach(), 2.0)));
  EXPECT_FALSE(b.grad().defined());
  // An f32 input joined with f64 gets an f32 gradient.
  Tensor h = uniform({2}, -1, 1, DType::kF32, 15);
  h.set_requires_grad();
  sum(concat({h, Tensor::ones({1}, DType::kF64)})).backward();
  EXPECT_EQ(h.grad().dtype(), DType::kF32);
  EXPECT_EQ(h.grad().to_vector<double>(), (std::vector<double>{1, 1}));
}

TEST(Join, GradientsMatchFiniteDifferences) {
  Tensor a = uniform({2, 3}, -1, 1, DType::kF64, 16);
  Tensor b = uniform({2, 2}, -1, 1, DType::kF64, 17);
  Tensor c = uniform({3, 2}, -1, 1, DType::kF64, 18);
  EXPECT_GRADCHECK([](const V& v) { return concat({v[0], v[1], v[2].t()}, 1); }, {a, b, c});
  EXPECT_GRADCHECK([](const V& v) { return concat({v[0], mul(v[0], v[0])}, 0); }, {a});
  EXPECT_GRADCHECK([](const V& v) { return stack({v[0], v[1].t(), v[0]}, 1); }, {a, c});
  Tensor x = uniform({7, 3}, -1, 1, DType::kF64, 19);
  // Only some pieces used (piece 1 and 3 dropped), one used twice, in another order.
  EXPECT_GRADCHECK(
      [](const V& v) {
        V p = split(v[0], 2, 0);
        return concat({mul(p[2], p[0]), exp(p[0])}, 1);
      },
      {x});
  EXPECT_GRADCHECK(
      [](const V& v) {
        V p = split(v[0], std::vector<int64_t>{1, 2}, 1);
        return mul(p[1], p[0]);
      },
      {x});
  EXPECT_GRADCHECK([](const V& v) { return chunk(v[0], 3, 0)[1]; }, {x});
  EXPECT_GRADCHECK([](const V& v) { return split(v[0].t(), 2, 1).back(); }, {x});
}

}  // namespace
}  // namespace chorus
