// Linear-algebra ops against their baselines:
//   chorus_bench --benchmark_filter=Sgemm      matmul vs cblas_sgemm called directly
//   chorus_bench --benchmark_filter=Attention  tiled attention, forward and forward+backward;
//     compare with tools/bench/attention_torch.py (PyTorch matmul+softmax+matmul).
// Threads: CHORUS_NUM_THREADS and OPENBLAS_NUM_THREADS (set both to the same count).
#include <benchmark/benchmark.h>
#include <cblas.h>

#include "core/autograd/node.h"
#include "core/ops/attention.h"
#include "core/ops/matmul.h"

namespace chorus {
namespace {

Tensor filled(const Shape& shape, double v) { return Tensor::full(shape, v, DType::kF32); }

void BM_ChorusSgemm(benchmark::State& state) {
  const int64_t n = state.range(0);
  autograd::NoGradGuard no_grad;
  Tensor a = filled({n, n}, 0.5), b = filled({n, n}, 0.25);
  for (auto _ : state) benchmark::DoNotOptimize(matmul(a, b).raw_data());
  state.counters["GFLOPS"] = benchmark::Counter(
      2.0 * n * n * n, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void BM_OpenBlasSgemm(benchmark::State& state) {
  const int64_t n = state.range(0);
  Tensor a = filled({n, n}, 0.5), b = filled({n, n}, 0.25);
  for (auto _ : state) {
    // Allocating C each time, as an op must, keeps the comparison about GEMM dispatch.
    Tensor c = Tensor::empty({n, n});
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data<float>(), n,
                b.data<float>(), n, 0.0f, c.data<float>(), n);
    benchmark::DoNotOptimize(c.raw_data());
  }
  state.counters["GFLOPS"] = benchmark::Counter(
      2.0 * n * n * n, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

// Args: batch, heads, length, head dim, causal.
void BM_AttentionForward(benchmark::State& state) {
  const int64_t b = state.range(0), h = state.range(1), l = state.range(2), d = state.range(3);
  autograd::NoGradGuard no_grad;
  Tensor q = filled({b, h, l, d}, 0.01), k = filled({b, h, l, d}, 0.02),
         v = filled({b, h, l, d}, 0.03);
  AttentionOptions o;
  o.causal = state.range(4) != 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(scaled_dot_product_attention(q, k, v, o).raw_data());
}

void BM_AttentionForwardBackward(benchmark::State& state) {
  const int64_t b = state.range(0), h = state.range(1), l = state.range(2), d = state.range(3);
  Tensor q = filled({b, h, l, d}, 0.01).set_requires_grad(),
         k = filled({b, h, l, d}, 0.02).set_requires_grad(),
         v = filled({b, h, l, d}, 0.03).set_requires_grad();
  Tensor g = filled({b, h, l, d}, 1.0);
  AttentionOptions o;
  o.causal = state.range(4) != 0;
  for (auto _ : state) {
    scaled_dot_product_attention(q, k, v, o).backward(g);
    benchmark::DoNotOptimize(q.grad().raw_data());
  }
}

BENCHMARK(BM_ChorusSgemm)->Arg(32)->Arg(64)->Arg(256)->Arg(512)->Arg(1024)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OpenBlasSgemm)->Arg(32)->Arg(64)->Arg(256)->Arg(512)->Arg(1024)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AttentionForward)
    ->Args({4, 8, 512, 64, 0})
    ->Args({4, 8, 512, 64, 1})
    ->Args({1, 8, 2048, 64, 0})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AttentionForwardBackward)
    ->Args({4, 8, 512, 64, 0})
    ->Args({4, 8, 512, 64, 1})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace chorus

BENCHMARK_MAIN();
