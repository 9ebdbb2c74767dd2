// Parity of the reductions, scans and sorts.
#include "core/ops/reduce.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/ops/kernel_dispatch.h"
#include "core/ops/scan.h"
#include "core/ops/sort.h"
#include "tests/cuda/parity.h"

namespace chorus::parity {
namespace {

const DType kFloatTypes[] = {DType::kF32, DType::kBF16, DType::kF16, DType::kF64};

TEST(CudaParity, Reductions) {
  CHORUS_REQUIRE_GPU();
  // (shape, dims): whole tensor, last dim, a middle dim, several dims, odd and empty sizes.
  const std::vector<std::pair<Shape, std::vector<int64_t>>> cases = {
      {{7}, {}},
      {{33, 65}, {1}},
      {{33, 65}, {0}},
      {{4, 5, 6}, {0, 2}},
      {{3, 0, 4}, {2}},
      {{2, 4099}, {-1}},
      {{1000, 3}, {1}},
      {{5, 6, 7}, {1}},
      {{64, 8192}, {1}},
      // Few long rows: each row is cut into pieces reduced by separate blocks and combined.
      {{257, 1031}, {}},
      {{3, 100003}, {1}},
      {{40000, 3}, {0}}};
  uint64_t seed = 1;
  for (DType dt : kFloatTypes) {
    for (const auto& [shape, dims] : cases) {
      const Tensor x = rand(shape, dt, seed++);
      check_op("sum", dt, {x}, [&](const std::vector<Tensor>& in) { return sum(in[0], dims); });
      check_op("mean", dt, {x}, [&](const std::vector<Tensor>& in) { return mean(in[0], dims); });
      check_op("sum_keepdim", dt, {x},
               [&](const std::vector<Tensor>& in) { return sum(in[0], dims, true); });
      check_op("norm2", dt, {x},
               [&](const std::vector<Tensor>& in) { return norm(in[0], 2.0, dims); });
      check_op("norm1", dt, {x},
               [&](const std::vector<Tensor>& in) { return norm(in[0], 1.0, dims); });
      if (x.numel() == 0) continue;  // the ops below reject empty reductions
      check_op("var", dt, {x}, [&](const std::vector<Tensor>& in) { return var(in[0], dims); });
      check_op("amax", dt, {x}, [&](const std::vector<Tensor>& in) { return amax(in[0], dims); });
      check_op("amin", dt, {x}, [&](const std::vector<Tensor>& in) { return amin(in[0], dims); });
      check_op("norm_inf", dt, {x}, [&](const std::vector<Tensor>& in) {
        return norm(in[0], std::numeric_limits<double>::infinity(), dims);
      });
      check_op("logsumexp", dt, {x}, [&](const std::vector<Tensor>& in) {
        return logsumexp(in[0], dims.empty() ? std::vector<int64_t>{0} : dims);
      });
    }
    for (const Shape& shape : {Shape{33, 65}, Shape{4, 5, 6}, Shape{2, 4099}}) {
      const Tensor x = rand(shape, dt, seed++);
      for (int64_t dim : {0, -1}) {
        const Tensor g = on(x, gpu());
        const auto mc = max(x, dim), mg = max(g, dim);
        EXPECT_TRUE(Same("max_values", dt, mc.values, mg.values));
        EXPECT_TRUE(Same("max_indices", dt, mc.indices, mg.indices));
        EXPECT_TRUE(Same("argmin", dt, argmin(x, dim), argmin(g, dim)));
        EXPECT_TRUE(Same("argmax", dt, argmax(x, dim), argmax(g, dim)));
        check_op("max_dim", dt, {x},
                 [&](const std::vector<Tensor>& in) { return max(in[0], dim).values; });
      }
    }
  }
  // sum_to: the gradient of a broadcast.
  const Tensor g = rand({4, 3, 5}, DType::kF32, 9);
  EXPECT_TRUE(Match("sum_to", DType::kF32, sum_to(g, {3, 1}), sum_to(on(g, gpu()), {3, 1})));
}

// The split path's combine step with special values: a piece that is all -inf (logsumexp must
// skip it), +inf, and a NaN (every reduction propagates it, wherever its piece is).
TEST(CudaParity, LongRowReductionsWithSpecialValues) {
  CHORUS_REQUIRE_GPU();
  const int64_t n = 200003;
  for (int variant = 0; variant < 3; ++variant) {
    Tensor x = rand({2, n}, DType::kF32, 70 + variant, -3.0, 3.0);
    float* p = static_cast<float*>(x.raw_data());
    if (variant == 0) {
      for (int64_t j = 0; j < 50000; ++j) p[j] = -std::numeric_limits<float>::infinity();
    } else if (variant == 1) {
      p[n + 123457] = std::numeric_limits<float>::infinity();
    } else {
      p[150001] = std::numeric_limits<float>::quiet_NaN();
    }
    const std::vector<int64_t> dims = {1};
    for (const char* op : {"sum", "logsumexp", "norm_inf", "norm2", "var"}) {
      const std::string name = std::string("long_row_") + op;
      auto fn = [&](const Tensor& t) {
        const std::string o = op;
        if (o == "sum") return sum(t, dims);
        if (o == "logsumexp") return logsumexp(t, dims);
        if (o == "norm_inf") return norm(t, std::numeric_limits<double>::infinity(), dims);
        if (o == "norm2") return norm(t, 2.0, dims);
        return var(t, dims);
      };
      EXPECT_TRUE(Match(name, DType::kF32, fn(x), fn(on(x, gpu())))) << name << " " << variant;
    }
  }
}

TEST(CudaParity, ScansAndSorts) {
  CHORUS_REQUIRE_GPU();
  uint64_t seed = 200;
  for (DType dt : kFloatTypes) {
    for (const Shape& shape : {Shape{17}, Shape{6, 33}, Shape{3, 4, 5}, Shape{0, 4}}) {
      const Tensor x = rand(shape, dt, seed++);
      for (int64_t dim : {0, -1}) {
        check_op("cumsum", dt, {x},
                 [&](const std::vector<Tensor>& in) { return cumsum(in[0], dim); });
        const Tensor g = on(x, gpu());
        const auto sc = sort(x, dim, true), sg = sort(g, dim, true);
        EXPECT_TRUE(Same("sort_values", dt, sc.values, sg.values));
        EXPECT_TRUE(Same("sort_indices", dt, sc.indices, sg.indices));
        EXPECT_TRUE(Same("argsort", dt, argsort(x, dim), argsort(g, dim)));
        const int64_t k = std::min<int64_t>(3, x.numel() == 0 ? 0 : x.size(dim));
        const auto tc = topk(x, k, dim), tg = topk(g, k, dim);
        EXPECT_TRUE(Same("topk_values", dt, tc.values, tg.values));
        EXPECT_TRUE(Same("topk_indices", dt, tc.indices, tg.indices));
        check_op("topk", dt, {x},
                 [&](const std::vector<Tensor>& in) { return topk(in[0], k, dim).values; });
      }
    }
  }
  const Tensor i = randint({5, 9}, -50, 50, 7);
  EXPECT_TRUE(Same("cumsum_i64", DType::kI64, cumsum(i, 1), cumsum(on(i, gpu()), 1)));
}

}  // namespace
}  // namespace chorus::parity

namespace chorus::parity {
namespace {

// Rows longer than the shared-memory sort takes (2048): the segmented radix sort must give the
// CPU's order exactly, ties (bf16/f16 and integer rows are full of them), NaN, -0 and +0
// included, and must not fall back to the host.
TEST(CudaParity, LongRowSorts) {
  CHORUS_REQUIRE_GPU();
  auto fallbacks = [] {
    int64_t n = 0;
    for (const auto& [name, calls] : ops_internal::host_fallback_counts()) {
      if (name == "cpu::sort_rows" || name == "cpu::topk_rows") n += calls;
    }
    return n;
  };
  const int64_t before = fallbacks();
  std::vector<Tensor> inputs;
  uint64_t seed = 900;
  for (DType dt : {DType::kF32, DType::kBF16, DType::kF16, DType::kF64}) {
    for (const Shape& shape : {Shape{3, 5000}, Shape{2, 70001}}) {
      inputs.push_back(rand(shape, dt, seed++));
    }
  }
  for (DType dt : {DType::kI64, DType::kI32, DType::kI8, DType::kU8}) {
    inputs.push_back(randint({3, 4099}, dt == DType::kU8 ? 0 : -100, 100, seed++).to(dt));
  }
  // NaN, -0 and +0 and repeated values in one long row.
  std::vector<float> special(6000);
  for (size_t i = 0; i < special.size(); ++i) {
    const float pattern[] = {std::numeric_limits<float>::quiet_NaN(), -0.f, 0.f, 1.5f, -2.f,
                             std::numeric_limits<float>::infinity(),  1.5f};
    special[i] = pattern[(i * 7919) % 7];
  }
  inputs.push_back(Tensor::from_vector<float>(special, {1, 6000}));
  for (const Tensor& x : inputs) {
    const DType dt = x.dtype();
    const Tensor g = on(x, gpu());
    const std::string what = std::string(dtype_name(dt)) + " " + shape_str(x.shape());
    for (bool descending : {false, true}) {
      const auto sc = sort(x, -1, descending), sg = sort(g, -1, descending);
      EXPECT_TRUE(Same("long sort values", dt, sc.values, sg.values)) << what;
      EXPECT_TRUE(Same("long sort indices", dt, sc.indices, sg.indices)) << what;
    }
    for (bool largest : {true, false}) {
      for (bool sorted : {true, false}) {
        const auto tc = topk(x, 37, -1, largest, sorted), tg = topk(g, 37, -1, largest, sorted);
        EXPECT_TRUE(Same("long topk values", dt, tc.values, tg.values))
            << what << " largest " << largest << " sorted " << sorted;
        EXPECT_TRUE(Same("long topk indices", dt, tc.indices, tg.indices))
            << what << " largest " << largest << " sorted " << sorted;
      }
    }
  }
  EXPECT_EQ(fallbacks(), before) << "long rows went through the host fallback";
}

}  // namespace
}  // namespace chorus::parity
