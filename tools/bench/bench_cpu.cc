// CPU benchmarks of the core ops, side by side with direct OpenBLAS for GEMM.
// tools/bench/torch_cpu.py measures PyTorch 1.13 on the same shapes and thread count, and
// tools/bench/compare.py joins both JSON files into the table of docs/benchmarks.md.
//
//   build/cpu/bin/chorus_bench --benchmark_format=json > chorus.json
#include <benchmark/benchmark.h>
#include <cblas.h>

#include "core/autograd/node.h"
#include "core/ops/attention.h"
#include "core/ops/elementwise.h"
#include "core/ops/loss.h"
#include "core/ops/matmul.h"
#include "core/ops/normalization.h"
#include "core/ops/softmax.h"
#include "core/tensor/philox.h"

namespace chorus {
namespace {

Tensor random_tensor(const Shape& shape, uint64_t seed = 1) {
  Tensor t = Tensor::empty(shape, DType::kF32);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    p[i] = 2.0f * uniform_from_word(philox_word(seed, 0, static_cast<uint64_t>(i))) - 1.0f;
  }
  return t;
}

void set_bytes(benchmark::State& state, int64_t bytes) {
  state.SetBytesProcessed(state.iterations() * bytes);
}

void BM_Gemm(benchmark::State& state) {
  const int64_t n = state.range(0);
  Tensor a = random_tensor({n, n}, 1), b = random_tensor({n, n}, 2);
  autograd::NoGradGuard g;
  for (auto _ : state) benchmark::DoNotOptimize(matmul(a, b));
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * n * n * n * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}

void BM_GemmOpenBLAS(benchmark::State& state) {
  const int64_t n = state.range(0);
  Tensor a = random_tensor({n, n}, 1), b = random_tensor({n, n}, 2);
  Tensor c = Tensor::empty({n, n});
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data<float>(), n,
                b.data<float>(), n, 0.0f, c.data<float>(), n);
    benchmark::DoNotOptimize(c.data<float>());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * n * n * n * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}

void BM_Softmax(benchmark::State& state) {
  Tensor x = random_tensor({state.range(0), state.range(1)});
  autograd::NoGradGuard g;
  for (auto _ : state) benchmark::DoNotOptimize(softmax(x, -1));
  set_bytes(state, 2 * x.nbytes());
}

void BM_LayerNorm(benchmark::State& state) {
  const int64_t d = state.range(1);
  Tensor x = random_tensor({state.range(0), d});
  Tensor w = random_tensor({d}, 3), b = random_tensor({d}, 4);
  autograd::NoGradGuard g;
  for (auto _ : state) benchmark::DoNotOptimize(layer_norm(x, {d}, w, b, 1e-5));
  set_bytes(state, 2 * x.nbytes());
}

void BM_CrossEntropy(benchmark::State& state) {
  const int64_t n = state.range(0), c = state.range(1);
  Tensor logits = random_tensor({n, c});
  std::vector<int64_t> t(n);
  for (int64_t i = 0; i < n; ++i) t[i] = (i * 7919) % c;
  Tensor targets = Tensor::from_vector<int64_t>(t, {n});
  autograd::NoGradGuard g;
  for (auto _ : state) benchmark::DoNotOptimize(cross_entropy(logits, targets));
  set_bytes(state, logits.nbytes());
}

void BM_Attention(benchmark::State& state) {
  const int64_t l = state.range(0), heads = 8, d = 64;
  Tensor q = random_tensor({1, heads, l, d}, 1), k = random_tensor({1, heads, l, d}, 2),
         v = random_tensor({1, heads, l, d}, 3);
  AttentionOptions opts;
  opts.causal = state.range(1) != 0;
  autograd::NoGradGuard g;
  for (auto _ : state) benchmark::DoNotOptimize(scaled_dot_product_attention(q, k, v, opts));
  const double flops = 4.0 * heads * l * l * d * (opts.causal ? 0.5 : 1.0);
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}

// Forward + backward, as training runs it.
void BM_AttentionTrain(benchmark::State& state) {
  const int64_t l = state.range(0), heads = 8, d = 64;
  Tensor q = random_tensor({1, heads, l, d}, 1), k = random_tensor({1, heads, l, d}, 2),
         v = random_tensor({1, heads, l, d}, 3), g = random_tensor({1, heads, l, d}, 4);
  for (Tensor* t : {&q, &k, &v}) t->set_requires_grad();
  AttentionOptions opts;
  opts.causal = state.range(1) != 0;
  for (auto _ : state) {
    for (Tensor* t : {&q, &k, &v}) t->set_grad(Tensor());
    scaled_dot_product_attention(q, k, v, opts).backward(g);
    benchmark::DoNotOptimize(q.grad().raw_data());
  }
  const double flops = 14.0 * heads * l * l * d * (opts.causal ? 0.5 : 1.0);  // 2 fwd + 5 bwd GEMMs
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}

void BM_Add(benchmark::State& state) {
  Tensor a = random_tensor({state.range(0)}, 1), b = random_tensor({state.range(0)}, 2);
  autograd::NoGradGuard g;
  for (auto _ : state) benchmark::DoNotOptimize(add(a, b));
  set_bytes(state, 3 * a.nbytes());
}

BENCHMARK(BM_Gemm)
    ->Arg(512)
    ->Arg(1024)
    ->Arg(2048)
    ->Arg(4096)
    ->MinTime(3.0)  // several iterations even at 4096: the first call also faults in its output
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_GemmOpenBLAS)
    ->Arg(512)
    ->Arg(1024)
    ->Arg(2048)
    ->Arg(4096)
    ->MinTime(3.0)  // several iterations even at 4096: the first call also faults in its output
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Softmax)
    ->Args({4096, 1024})
    ->Args({1024, 32000})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_LayerNorm)
    ->Args({8192, 1024})
    ->Args({2048, 4096})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_CrossEntropy)
    ->Args({2048, 32000})
    ->Args({512, 128000})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_Attention)
    ->Args({256, 0})
    ->Args({1024, 0})
    ->Args({1024, 1})
    ->Args({4096, 0})
    ->Args({4096, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_AttentionTrain)
    ->Args({1024, 0})
    ->Args({1024, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Add)->Arg(1 << 20)->Arg(1 << 24)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace chorus

BENCHMARK_MAIN();
