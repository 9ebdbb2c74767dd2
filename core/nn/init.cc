#include "core/nn/init.h"

#include <cmath>
#include <mutex>
#include <numbers>
#include <vector>

#include "core/tensor/dispatch.h"
#include "core/tensor/parallel.h"

namespace chorus::nn::init {
namespace {

// Uniform in the open interval (0, 1) with 32 random bits: safe for log() in Box–Muller.
double open_unit(uint32_t w) { return (static_cast<double>(w) + 0.5) * 0x1.0p-32; }
double half_open_unit(uint32_t w) { return static_cast<double>(w) * 0x1.0p-32; }

Tensor make(const Shape& shape, DType dtype, const char* fn) {
  CHORUS_CHECK(is_floating(dtype), "init::", fn, ": needs a floating dtype, got ",
               dtype_name(dtype));
  return Tensor::empty(shape, dtype);
}

// Standard normal i of the Box–Muller stream (seed, offset): pair i/2, branch i%2.
double box_muller(uint64_t seed, uint64_t offset, uint64_t i) {
  const uint64_t pair = i / 2;
  const double r = std::sqrt(-2.0 * std::log(open_unit(philox_word(seed, offset, 2 * pair))));
  const double theta =
      2.0 * std::numbers::pi * half_open_unit(philox_word(seed, offset, 2 * pair + 1));
  return r * (i % 2 == 0 ? std::cos(theta) : std::sin(theta));
}

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }

// x with Φ(x) = p for p in (Φ(a), Φ(b)), by bisection on [a, b]: only used for the rare
// elements rejection could not place, so simplicity beats speed.
double inverse_cdf_in(double p, double a, double b) {
  for (int it = 0; it < 200 && b - a > 1e-15 * (1.0 + std::fabs(a)); ++it) {
    const double m = 0.5 * (a + b);
    (normal_cdf(m) < p ? a : b) = m;
  }
  return 0.5 * (a + b);
}

}  // namespace

std::pair<int64_t, int64_t> fans(const Shape& shape) {
  CHORUS_CHECK(!shape.empty(), "init::fans: a 0-dim tensor has no fan");
  if (shape.size() == 1) return {shape[0], shape[0]};
  int64_t receptive = 1;
  for (size_t d = 2; d < shape.size(); ++d) receptive *= shape[d];
  return {shape[1] * receptive, shape[0] * receptive};
}

Tensor uniform(const Shape& shape, double lo, double hi, Generator& gen, DType dtype) {
  CHORUS_CHECK(lo <= hi, "init::uniform: lo ", lo, " > hi ", hi);
  Tensor t = make(shape, dtype, "uniform");
  const int64_t n = t.numel();
  const uint64_t seed = gen.seed(), offset = gen.reserve(static_cast<uint64_t>(n));
  void* p = t.raw_data();
  parallel_for(0, n, kElementwiseGrain / 8, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const double u = half_open_unit(philox_word(seed, offset, static_cast<uint64_t>(i)));
      store_from_double(p, i, dtype, lo + (hi - lo) * u);
    }
  });
  return t;
}

Tensor normal(const Shape& shape, double mean, double std, Generator& gen, DType dtype) {
  CHORUS_CHECK(std >= 0.0, "init::normal: negative std ", std);
  Tensor t = make(shape, dtype, "normal");
  const int64_t n = t.numel();
  const uint64_t seed = gen.seed();
  const uint64_t offset = gen.reserve(2 * static_cast<uint64_t>((n + 1) / 2));
  void* p = t.raw_data();
  parallel_for(0, n, kElementwiseGrain / 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      store_from_double(p, i, dtype, mean + std * box_muller(seed, offset, i));
    }
  });
  return t;
}

Tensor trunc_normal(const Shape& shape, double mean, double std, double lo, double hi,
                    Generator& gen, DType dtype) {
  CHORUS_CHECK(std > 0.0 && lo < hi, "init::trunc_normal: needs std > 0 and lo < hi, got std ", std,
               ", [", lo, ", ", hi, "]");
  Tensor t = make(shape, dtype, "trunc_normal");
  const int64_t n = t.numel();
  const uint64_t seed = gen.seed();
  void* p = t.raw_data();
  // Accepted values go straight into the tensor; only the (few) rejected indices are kept.
  // Every element draws from its own words, so the result does not depend on the order in
  // which threads report rejections.
  std::vector<int64_t> pending;
  std::mutex pending_mutex;
  uint64_t offset = 0;
  auto run_round = [&](int64_t count, auto index_of) {
    // Every round reserves the full 2n words, so where an element draws from never depends
    // on which other elements were rejected.
    offset = gen.reserve(2 * static_cast<uint64_t>(n));
    std::vector<int64_t> rejected;
    parallel_for(0, count, kElementwiseGrain / 16, [&](int64_t b, int64_t e) {
      std::vector<int64_t> local;
      for (int64_t k = b; k < e; ++k) {
        const int64_t i = index_of(k);
        const double v = mean + std * box_muller(seed, offset, 2 * static_cast<uint64_t>(i));
        if (v < lo || v > hi) {
          local.push_back(i);
        } else {
          store_from_double(p, i, dtype, v);
        }
      }
      std::lock_guard<std::mutex> lock(pending_mutex);
      rejected.insert(rejected.end(), local.begin(), local.end());
    });
    return rejected;
  };
  pending = run_round(n, [](int64_t k) { return k; });
  for (int round = 1; round < kTruncRounds && !pending.empty(); ++round) {
    const std::vector<int64_t> current = std::move(pending);
    pending =
        run_round(static_cast<int64_t>(current.size()), [&](int64_t k) { return current[k]; });
  }
  // Survivors (only when [lo, hi] holds little probability mass): place each by the inverse
  // CDF at a uniform point of [Φ(lo), Φ(hi)] taken from its last round's first word.
  const double za = (lo - mean) / std, zb = (hi - mean) / std;
  const double pa = normal_cdf(za), pb = normal_cdf(zb);
  for (int64_t i : pending) {
    const double u = open_unit(philox_word(seed, offset, 2 * static_cast<uint64_t>(i)));
    store_from_double(p, i, dtype, mean + std * inverse_cdf_in(pa + u * (pb - pa), za, zb));
  }
  return t;
}

Tensor kaiming_uniform(const Shape& shape, Generator& gen, double gain, DType dtype) {
  const double bound = gain * std::sqrt(3.0 / static_cast<double>(fans(shape).first));
  return uniform(shape, -bound, bound, gen, dtype);
}

Tensor kaiming_normal(const Shape& shape, Generator& gen, double gain, DType dtype) {
  return normal(shape, 0.0, gain / std::sqrt(static_cast<double>(fans(shape).first)), gen, dtype);
}

Tensor xavier_uniform(const Shape& shape, Generator& gen, double gain, DType dtype) {
  const auto [in, out] = fans(shape);
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(in + out));
  return uniform(shape, -bound, bound, gen, dtype);
}

Tensor xavier_normal(const Shape& shape, Generator& gen, double gain, DType dtype) {
  const auto [in, out] = fans(shape);
  return normal(shape, 0.0, gain * std::sqrt(2.0 / static_cast<double>(in + out)), gen, dtype);
}

}  // namespace chorus::nn::init
