// Parity of the pooling ops (max with indices, average with and without padding in the divisor,
// adaptive average; 2-D and 1-D) and the MoE token permutation (permute, unpermute with and
// without weights, capacity drops), forward and gradient, and a check that none of their kernel
// slots runs through the host fallback any more.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/nn/moe/permute.h"
#include "core/ops/elementwise.h"
#include "core/ops/kernel_dispatch.h"
#include "core/ops/pool.h"
#include "core/ops/reduce.h"
#include "tests/cuda/parity.h"

namespace chorus::parity {
namespace {

using nn::moe::make_routing_plan;
using nn::moe::permute_tokens;
using nn::moe::RoutingPlan;
using nn::moe::unpermute_tokens;

const DType kFloatTypes[] = {DType::kF32, DType::kBF16, DType::kF16, DType::kF64};

// Values from a few levels, so that windows hold ties (the max's first-index rule, the
// gradient going to that index only).
Tensor tied(const Shape& shape, DType dtype, uint64_t seed) {
  return randint(shape, -2, 3, seed).to(dtype);
}

// `x` with NaN at every `every`-th element (from `first`).
Tensor with_nans(const Tensor& x, int64_t first, int64_t every) {
  std::vector<double> v = x.to_vector<double>();
  for (size_t i = static_cast<size_t>(first); i < v.size(); i += static_cast<size_t>(every)) {
    v[i] = std::numeric_limits<double>::quiet_NaN();
  }
  return Tensor::from_doubles(v, x.shape(), x.dtype());
}

struct Window2 {
  Size2 kernel, stride, padding, dilation;
};

// Inputs of every pooling case: odd sizes, a 3-D [C, H, W] input, empty batches, a larger one.
const std::vector<Shape>& pool_shapes() {
  static const std::vector<Shape> s = {{2, 3, 11, 13}, {1, 1, 7, 5}, {5, 9, 8},
                                       {0, 3, 8, 8},   {2, 0, 9, 9}, {3, 2, 1, 17},
                                       {4, 8, 67, 71}, {1, 2, 33, 1}};
  return s;
}

// The windows tried on a shape: those that fit it (the op refuses a window larger than the
// padded input).
std::vector<Window2> windows_for(const Shape& s) {
  const int64_t h = s[s.size() - 2], w = s[s.size() - 1];
  const std::vector<Window2> all = {
      {{3, 3}, {2, 2}, {1, 1}, {1, 1}},  // the classic downsampling pool
      {{2, 2}, {0, 0}, {0, 0}, {1, 1}},  // stride = kernel
      {{3, 3}, {1, 1}, {1, 1}, {1, 1}},  // overlapping windows: gradients add up
      {{2, 3}, {1, 2}, {1, 0}, {1, 1}},  // rectangular, asymmetric
      {{3, 2}, {2, 1}, {1, 1}, {2, 3}},  // dilated (max only)
      {{1, 1}, {1, 1}, {0, 0}, {1, 1}},  // identity
      {{1, 5}, {1, 3}, {0, 2}, {1, 1}},  // a 1-D window
  };
  std::vector<Window2> out;
  for (const Window2& win : all) {
    bool fits = true;
    for (int i = 0; i < 2; ++i) {
      const int64_t span = win.dilation[i] * (win.kernel[i] - 1) + 1;
      fits = fits && (i == 0 ? h : w) + 2 * win.padding[i] >= span;
    }
    if (fits) out.push_back(win);
  }
  return out;
}

TEST(CudaParity, Pooling) {
  CHORUS_REQUIRE_GPU();
  for (DType dt : kFloatTypes) {
    uint64_t seed = 60;
    for (const Shape& s : pool_shapes()) {
      for (const Window2& win : windows_for(s)) {
        for (bool ties : {false, true}) {
          const Tensor x = ties ? tied(s, dt, ++seed) : rand(s, dt, ++seed);
          check_op("max_pool2d", dt, {x}, [&](const std::vector<Tensor>& in) {
            return max_pool2d(in[0], win.kernel, win.stride, win.padding, win.dilation);
          });
          const ValuesIndices c =
              max_pool2d_with_indices(x, win.kernel, win.stride, win.padding, win.dilation);
          const ValuesIndices g = max_pool2d_with_indices(on(x, gpu()), win.kernel, win.stride,
                                                          win.padding, win.dilation);
          EXPECT_TRUE(Same("max_pool2d_indices", dt, c.indices, g.indices))
              << label(dt, s) << " kernel " << win.kernel[0] << "x" << win.kernel[1];
          if (win.dilation[0] != 1 || win.dilation[1] != 1) continue;
          for (bool include_pad : {true, false}) {
            check_op(include_pad ? "avg_pool2d" : "avg_pool2d_exclude_pad", dt, {x},
                     [&](const std::vector<Tensor>& in) {
                       return avg_pool2d(in[0], win.kernel, win.stride, win.padding, include_pad);
                     });
          }
        }
      }
      const int64_t h = s[s.size() - 2], w = s[s.size() - 1];
      if (h == 0 || w == 0) continue;
      // Adaptive windows: dividing evenly, unevenly, overlapping (more outputs than inputs), 1x1.
      for (const Size2 o :
           {Size2{4, 5}, Size2{h, w}, Size2{2 * h + 1, w + 3}, Size2{1, 1}, Size2{3, 1}}) {
        check_op("adaptive_avg_pool2d", dt, {rand(s, dt, ++seed)},
                 [&](const std::vector<Tensor>& in) { return adaptive_avg_pool2d(in[0], o); });
      }
    }
    // NaN propagates through the max (the last NaN of a window wins) and the means.
    const Tensor xn = with_nans(rand({2, 3, 11, 13}, dt, 90), 5, 37);
    const ValuesIndices c = max_pool2d_with_indices(xn, {3, 3}, {1, 1}, {1, 1});
    const ValuesIndices g = max_pool2d_with_indices(on(xn, gpu()), {3, 3}, {1, 1}, {1, 1});
    EXPECT_TRUE(Match("max_pool2d_nan", dt, c.values, g.values));
    EXPECT_TRUE(Same("max_pool2d_nan_indices", dt, c.indices, g.indices));
    check_op("max_pool2d_nan", dt, {xn}, [](const std::vector<Tensor>& in) {
      return max_pool2d(in[0], {2, 3}, {1, 2}, {1, 1});
    });
    check_op("avg_pool2d_nan", dt, {xn}, [](const std::vector<Tensor>& in) {
      return avg_pool2d(in[0], {2, 2}, {1, 1}, {1, 1}, false);
    });
    // The 1-D ops (the 2-D kernels on a height-1 image).
    const Tensor x1 = rand({3, 4, 29}, dt, 91);
    check_op("max_pool1d", dt, {x1},
             [](const std::vector<Tensor>& in) { return max_pool1d(in[0], 4, 3, 2, 2); });
    check_op("avg_pool1d", dt, {x1},
             [](const std::vector<Tensor>& in) { return avg_pool1d(in[0], 3, 2, 1, false); });
    check_op("adaptive_avg_pool1d", dt, {x1},
             [](const std::vector<Tensor>& in) { return adaptive_avg_pool1d(in[0], 6); });
  }
}

struct MoeCase {
  int64_t n, k, experts, d, capacity;
};

const std::vector<MoeCase>& moe_cases() {
  static const std::vector<MoeCase> c = {
      {1, 1, 1, 1, -1},    {7, 2, 4, 5, -1},    {33, 3, 8, 17, -1}, {64, 2, 8, 130, 5},
      {0, 2, 3, 4, -1},    {6, 2, 3, 0, -1},    {9, 2, 3, 7, 0},    {1000, 2, 16, 256, -1},
      {257, 4, 8, 33, 70}, {40, 1, 5, 2049, 6},
  };
  return c;
}

RoutingPlan plan_of(const std::vector<Tensor>& in, const MoeCase& c) {
  return make_routing_plan(in[1], c.experts, c.capacity, c.capacity >= 0 ? in[3] : Tensor());
}

TEST(CudaParity, MoePermutation) {
  CHORUS_REQUIRE_GPU();
  for (DType dt : kFloatTypes) {
    uint64_t seed = 200;
    for (const MoeCase& c : moe_cases()) {
      const Tensor idx = randint({c.n, c.k}, 0, c.experts, ++seed);
      const Tensor prio = rand({c.n, c.k}, DType::kF32, ++seed, 0.0, 1.0);
      const Tensor x = rand({c.n, c.d}, dt, ++seed);
      const Tensor w = rand({c.n, c.k}, dt, ++seed, 0.0, 1.0);
      const RoutingPlan host_plan =
          make_routing_plan(idx, c.experts, c.capacity, c.capacity >= 0 ? prio : Tensor());
      const Tensor rows = rand({host_plan.num_rows(), c.d}, dt, ++seed);
      const std::string what = "n=" + std::to_string(c.n) + " k=" + std::to_string(c.k) +
                               " d=" + std::to_string(c.d) + " cap=" + std::to_string(c.capacity);
      SCOPED_TRACE(what);
      // The plan's index tensors follow the router's indices onto the device.
      const RoutingPlan gpu_plan = plan_of({x, on(idx, gpu()), w, on(prio, gpu())}, c);
      EXPECT_TRUE(gpu_plan.row_slot.device().is_cuda() && gpu_plan.slot_row.device().is_cuda());
      EXPECT_TRUE(Same("moe_routing_plan", DType::kI64, host_plan.slot_row, gpu_plan.slot_row));
      // permute: x -> expert order (moe_gather_rows); its gradient is moe_combine_rows.
      check_op("moe_permute", dt, {x, idx, w, prio},
               [&](const std::vector<Tensor>& in) { return permute_tokens(in[0], plan_of(in, c)); },
               {true, false, false, false});
      // unpermute with weights: moe_combine_rows; gradients through moe_gather_rows (rows)
      // and moe_combine_weight_grad (weights).
      check_op("moe_unpermute", dt, {rows, idx, w, prio},
               [&](const std::vector<Tensor>& in) {
                 return unpermute_tokens(in[0], plan_of(in, c), in[2]);
               },
               {true, false, true, false});
      check_op(
          "moe_unpermute_unweighted", dt, {rows, idx, w, prio},
          [&](const std::vector<Tensor>& in) { return unpermute_tokens(in[0], plan_of(in, c)); },
          {true, false, false, false});
      // The layer's round trip, with the weights in f32 whatever the rows' dtype.
      check_op("moe_roundtrip", dt, {x, idx, w.to(DType::kF32), prio},
               [&](const std::vector<Tensor>& in) {
                 const RoutingPlan p = plan_of(in, c);
                 return unpermute_tokens(mul(permute_tokens(in[0], p), 2.0), p, in[2]);
               },
               {true, false, true, false});
    }
    // A plan made on the host used with device data is copied over, not read through host
    // pointers.
    const Tensor idx = randint({5, 2}, 0, 3, 300);
    const RoutingPlan hp = make_routing_plan(idx, 3);
    const Tensor x = rand({5, 6}, dt, 301);
    EXPECT_TRUE(Match("moe_permute_host_plan", dt, permute_tokens(x, hp),
                      permute_tokens(on(x, gpu()), hp)));
  }
}

// Pools and MoE permutation have CUDA kernels: none of their slots may reach the host fallback.
TEST(CudaParity, PoolAndMoeSlotsRunNatively) {
  CHORUS_REQUIRE_GPU();
  auto counts = [] {
    std::map<std::string, int64_t> m;
    for (const auto& [name, calls] : ops_internal::host_fallback_counts()) m[name] = calls;
    return m;
  };
  const auto before = counts();
  for (DType dt : kFloatTypes) {
    const Tensor x = on(rand({2, 3, 9, 10}, dt, 400), gpu());
    x.set_requires_grad();
    const Tensor y =
        add(add(sum(max_pool2d(x, {3, 3}, {2, 2}, {1, 1})), sum(avg_pool2d(x, {2, 2}))),
            sum(adaptive_avg_pool2d(x, {4, 3})));
    y.backward();
    const Tensor t = on(rand({8, 5}, dt, 401), gpu());
    const Tensor w = on(rand({8, 2}, dt, 402), gpu());
    t.set_requires_grad();
    w.set_requires_grad();
    const RoutingPlan p = make_routing_plan(on(randint({8, 2}, 0, 4, 403), gpu()), 4);
    sum(unpermute_tokens(permute_tokens(t, p), p, w)).backward();
  }
  const auto after = counts();
  for (const char* slot :
       {"cpu::max_pool2d_forward", "cpu::max_pool2d_backward", "cpu::avg_pool2d_forward",
        "cpu::avg_pool2d_backward", "cpu::adaptive_avg_pool2d_forward",
        "cpu::adaptive_avg_pool2d_backward", "cpu::moe_gather_rows", "cpu::moe_combine_rows",
        "cpu::moe_combine_weight_grad"}) {
    const int64_t b = before.count(slot) ? before.at(slot) : 0;
    const int64_t a = after.count(slot) ? after.at(slot) : 0;
    EXPECT_EQ(a, b) << slot << " ran through the host fallback";
  }
}

}  // namespace
}  // namespace chorus::parity
