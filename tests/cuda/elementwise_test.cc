// Parity of the elementwise ops, casts and copies: every dtype, broadcast and strided inputs.
#include "core/ops/elementwise.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tests/cuda/parity.h"

namespace chorus::parity {
namespace {

const DType kFloatTypes[] = {DType::kF32, DType::kBF16, DType::kF16, DType::kF64};

struct UnaryCase {
  const char* name;
  std::function<Tensor(const Tensor&)> fn;
  double lo, hi;  // input range (log, sqrt need positive values)
};

TEST(CudaParity, Unary) {
  CHORUS_REQUIRE_GPU();
  const std::vector<UnaryCase> cases = {
      {"neg", [](const Tensor& x) { return neg(x); }, -2, 2},
      {"abs", [](const Tensor& x) { return abs(x); }, -2, 2},
      {"exp", [](const Tensor& x) { return exp(x); }, -2, 2},
      {"log", [](const Tensor& x) { return log(x); }, 0.1, 3},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, 0.1, 3},
      {"rsqrt", [](const Tensor& x) { return rsqrt(x); }, 0.1, 3},
      {"square", [](const Tensor& x) { return square(x); }, -2, 2},
      {"tanh", [](const Tensor& x) { return tanh(x); }, -3, 3},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, -4, 4},
      {"relu", [](const Tensor& x) { return relu(x); }, -2, 2},
      {"gelu", [](const Tensor& x) { return gelu(x); }, -3, 3},
      {"gelu_tanh", [](const Tensor& x) { return gelu(x, GeluApprox::kTanh); }, -3, 3},
      {"silu", [](const Tensor& x) { return silu(x); }, -3, 3},
      {"sign", [](const Tensor& x) { return sign(x); }, -2, 2},
      {"clamp", [](const Tensor& x) { return clamp(x, -0.5, 0.7); }, -2, 2},
      {"pow_scalar", [](const Tensor& x) { return pow(x, 1.7); }, 0.1, 2},
      {"add_scalar", [](const Tensor& x) { return add(x, 0.25); }, -2, 2},
      {"rdiv_scalar", [](const Tensor& x) { return rdiv(1.5, x); }, 0.5, 2},
  };
  uint64_t seed = 1;
  for (const UnaryCase& c : cases) {
    for (DType dt : kFloatTypes) {
      for (const Shape& s : shapes()) {
        check_op(c.name, dt, {rand(s, dt, seed++, c.lo, c.hi)},
                 [&](const std::vector<Tensor>& in) { return c.fn(in[0]); });
      }
    }
  }
}

struct BinaryCase {
  const char* name;
  std::function<Tensor(const Tensor&, const Tensor&)> fn;
  double lo, hi;
};

TEST(CudaParity, BinaryBroadcastAndStrided) {
  CHORUS_REQUIRE_GPU();
  const std::vector<BinaryCase> cases = {
      {"add", [](const Tensor& a, const Tensor& b) { return add(a, b); }, -2, 2},
      {"sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); }, -2, 2},
      {"mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); }, -2, 2},
      {"div", [](const Tensor& a, const Tensor& b) { return div(a, b); }, 0.5, 2},
      {"pow", [](const Tensor& a, const Tensor& b) { return pow(a, b); }, 0.5, 2},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }, -2, 2},
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }, -2, 2},
  };
  // (a shape, b shape): equal, broadcast both ways, scalar, empty, and a transposed view.
  const std::vector<std::pair<Shape, Shape>> pairs = {{{5, 7}, {5, 7}},
                                                      {{4, 1, 6}, {3, 1}},
                                                      {{9}, {}},
                                                      {{}, {2, 3}},
                                                      {{0, 3}, {3}},
                                                      {{33, 65}, {65}},
                                                      {{2, 3, 4, 5}, {3, 1, 5}},
                                                      {{300, 257}, {300, 1}}};
  uint64_t seed = 100;
  for (const BinaryCase& c : cases) {
    for (DType dt : kFloatTypes) {
      for (const auto& [sa, sb] : pairs) {
        check_op(c.name, dt, {rand(sa, dt, seed++, c.lo, c.hi), rand(sb, dt, seed++, c.lo, c.hi)},
                 [&](const std::vector<Tensor>& in) { return c.fn(in[0], in[1]); });
      }
      // Strided operands: a transposed and a sliced view.
      check_op(std::string(c.name), dt,
               {rand({17, 9}, dt, seed++, c.lo, c.hi), rand({9, 34}, dt, seed++, c.lo, c.hi)},
               [&](const std::vector<Tensor>& in) {
                 return c.fn(in[0], in[1].transpose(0, 1).slice(0, 0, 34, 2));
               });
    }
  }
}

TEST(CudaParity, MixedDtypesAndComparisons) {
  CHORUS_REQUIRE_GPU();
  // bf16 + f32 promotes to f32, bf16 + f16 to f32, an int tensor with a float one to float.
  check_op("add_mixed", DType::kBF16, {rand({6, 5}, DType::kBF16, 1), rand({6, 5}, DType::kF32, 2)},
           [](const std::vector<Tensor>& in) { return add(in[0], in[1]); });
  check_op("mul_mixed", DType::kF16, {rand({6, 5}, DType::kF16, 3), rand({5}, DType::kBF16, 4)},
           [](const std::vector<Tensor>& in) { return mul(in[0], in[1]); });
  for (DType dt : kFloatTypes) {
    const Tensor a = rand({40, 31}, dt, 5), b = rand({31}, dt, 6);
    const Tensor ga = on(a, gpu()), gb = on(b, gpu());
    EXPECT_TRUE(Same("lt", dt, lt(a, b), lt(ga, gb)));
    EXPECT_TRUE(Same("ge", dt, ge(a, b), ge(ga, gb)));
    EXPECT_TRUE(Same("eq", dt, eq(a, a), eq(ga, ga)));
    EXPECT_TRUE(Same("logical_not", dt, logical_not(gt(a, 0.0)), logical_not(gt(ga, 0.0))));
    check_op("where", dt, {rand({40, 31}, dt, 7), rand({31}, dt, 8), rand({40, 31}, dt, 9)},
             [](const std::vector<Tensor>& in) { return where(gt(in[0], 0.0), in[1], in[2]); });
  }
  // Integer arithmetic runs in f64 and comes back as i64.
  const Tensor i = randint({50}, -1000, 1000, 3), j = randint({50}, 1, 100, 4);
  EXPECT_TRUE(Same("add_i64", DType::kI64, add(i, j), add(on(i, gpu()), on(j, gpu()))));
  EXPECT_TRUE(Same("mul_i64", DType::kI64, mul(i, j), mul(on(i, gpu()), on(j, gpu()))));
}

TEST(CudaParity, CastsBetweenEveryDtypePair) {
  CHORUS_REQUIRE_GPU();
  const DType all[] = {DType::kF32,    DType::kF64,    DType::kBF16, DType::kF16,
                       DType::kF8E4M3, DType::kF8E5M2, DType::kI8,   DType::kU8,
                       DType::kI32,    DType::kI64,    DType::kBool};
  uint64_t seed = 500;
  for (DType from : all) {
    for (DType to : all) {
      // Values every dtype holds closely: halves in [-60, 60]; non-negative where an unsigned
      // dtype is involved (a negative value has no u8 conversion both sides agree on).
      const bool unsigned_side = from == DType::kU8 || from == DType::kBool || to == DType::kU8;
      auto v = rand({37, 11}, DType::kF64, seed++, -60, 60).to_vector<double>();
      for (double& x : v) x = std::round(x * 2) / 2;
      if (unsigned_side) {
        for (double& x : v) x = std::fabs(x);
      }
      const Tensor src = Tensor::from_doubles(v, {37, 11}, from);
      EXPECT_TRUE(
          Same(std::string("cast_to_") + dtype_name(to), from, src.to(to), on(src, gpu()).to(to)));
      // Strided source: a transposed view of the device tensor.
      EXPECT_TRUE(Same(std::string("cast_strided_to_") + dtype_name(to), from, src.t().to(to),
                       on(src, gpu()).t().to(to)));
    }
  }
}

TEST(CudaParity, CopiesViewsAndFill) {
  CHORUS_REQUIRE_GPU();
  for (DType dt : kFloatTypes) {
    const Tensor x = rand({6, 7, 8}, dt, 11);
    const Tensor g = on(x, gpu());
    EXPECT_TRUE(Same("permute_contiguous", dt, x.permute({2, 0, 1}).contiguous(),
                     g.permute({2, 0, 1}).contiguous()));
    EXPECT_TRUE(
        Same("slice_step", dt, x.slice(1, 1, 7, 3).contiguous(), g.slice(1, 1, 7, 3).contiguous()));
    EXPECT_TRUE(Same("expand", dt, x.slice(0, 0, 1).expand({5, 7, 8}).contiguous(),
                     g.slice(0, 0, 1).expand({5, 7, 8}).contiguous()));
    EXPECT_TRUE(Same("fill", dt, Tensor::full({3, 1000}, 0.375, dt),
                     Tensor::full({3, 1000}, 0.375, dt, gpu())));
    // Host -> device into a strided destination, device -> host from one.
    Tensor dst = Tensor::zeros({8, 6, 7}, dt, gpu());
    dst.permute({1, 2, 0}).copy_(x);
    EXPECT_TRUE(Same("copy_into_strided", dt, x.permute({2, 0, 1}).contiguous(), dst));
    Tensor host = Tensor::empty({6, 7, 8}, dt);
    host.copy_(dst.permute({1, 2, 0}));
    EXPECT_TRUE(Same("copy_out_of_strided", dt, x, host));
    // A large copy goes through the pinned staging buffer.
    const Tensor big = rand({3, 1 << 20}, dt, 12);
    EXPECT_TRUE(Same("copy_staged", dt, big, on(big, gpu())));
  }
}

}  // namespace
}  // namespace chorus::parity
