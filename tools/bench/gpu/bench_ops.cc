// The GPU benchmark's op-level rows: matmul and attention through the engine's front-ends
// (dispatch, caching allocator, autograd) on Tensors on cuda:0, on the legacy default stream
// where the engine runs by default. Links the whole core, so it is a separate binary from
// chorus_bench_gpu. Usage: chorus_bench_gpu_ops [--out file.json]
#include <cuda_runtime.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/ops/attention.h"
#include "core/ops/matmul.h"
#include "core/tensor/tensor.h"
#include "nlohmann/json.hpp"
#include "tools/bench/gpu/timing.h"

namespace chorus::bench {
namespace {

nlohmann::json g_rows = nlohmann::json::array();

void report(const std::string& name, double ms, double flops) {
  const double tflops = flops / (ms * 1e-3) / 1e12;
  g_rows.push_back({{"name", name}, {"ms", ms}, {"tflops", tflops}});
  std::printf("%-44s %10.4f ms %9.1f TFLOP/s\n", name.c_str(), ms, tflops);
  std::fflush(stdout);
}

// A bf16 tensor on cuda:0 holding uniform(-1, 1) values.
Tensor device_bf16(const Shape& shape, uint64_t seed) {
  Tensor t = Tensor::empty(shape, DType::kBF16, Device::cuda(0));
  std::vector<uint16_t> host(t.numel());
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (auto& x : host) x = float_to_bf16(u(rng));
  cuda_ok(cudaMemcpy(t.raw_data(), host.data(), host.size() * 2, cudaMemcpyHostToDevice), "upload");
  return t;
}

// The engine's ops on Tensors (front-end, dispatch, caching allocator, autograd), on the legacy
// default stream where the engine runs by default.
void bench_ops(Timer& timer) {
  for (int64_t n : {4096, 8192}) {
    const Tensor a = device_bf16({n, n}, 1), b = device_bf16({n, n}, 2);
    report("gemm_bf16/" + std::to_string(n) + "^3/chorus_op",
           timer.median_ms([&] { (void)matmul(a, b); }), 2.0 * n * n * n);
  }
  const int64_t h = 16, d = 128, tokens = 16384;
  for (int64_t seq : {1024, 4096, 16384}) {
    const int64_t b = std::max<int64_t>(1, tokens / seq);
    Tensor q = device_bf16({b, h, seq, d}, 11), k = device_bf16({b, h, seq, d}, 12),
           v = device_bf16({b, h, seq, d}, 13);
    const Tensor g = device_bf16({b, h, seq, d}, 14);
    q.set_requires_grad(), k.set_requires_grad(), v.set_requires_grad();
    for (bool causal : {false, true}) {
      AttentionOptions o;
      o.causal = causal;
      const double flops = 3.5 * 4.0 * b * h * seq * seq * d * (causal ? 0.5 : 1.0);
      report("attention_bf16_d128/seq" + std::to_string(seq) + (causal ? "/causal" : "/full") +
                 "/fwd+bwd/chorus_op",
             timer.median_ms([&] {
               Tensor out = scaled_dot_product_attention(q, k, v, o);
               out.backward(g);
             }),
             flops);
    }
  }
}

}  // namespace
}  // namespace chorus::bench

int main(int argc, char** argv) {
  using namespace chorus::bench;
  std::string out = "bench_gpu_ops.json";
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--out") == 0) out = argv[i + 1];
  }
  {
    Timer timer(nullptr);
    try {
      bench_ops(timer);
    } catch (const std::exception& e) {
      std::printf("ops: FAILED: %s\n", e.what());
    }
  }
  std::ofstream(out) << nlohmann::json{{"results", g_rows}}.dump(2) << "\n";
  return 0;
}
