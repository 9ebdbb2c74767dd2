// GPU benchmark of the vendor-library kernels (cuBLASLt GEMM, cuDNN attention and convolutions)
// against a direct cuBLASLt call; tools/bench/gpu/torch_gpu.py times PyTorch on the same
// shapes and compare.py puts the two side by side. Usage: chorus_bench_gpu [--out file.json]
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/ops/cuda/blas/gemm.h"
#include "core/ops/cuda/dnn/conv.h"
#include "core/ops/cuda/dnn/sdpa.h"
#include "nlohmann/json.hpp"
#include "tools/bench/gpu/direct_cublaslt.h"
#include "tools/bench/gpu/timing.h"

namespace chorus::bench {
namespace {

struct Row {
  std::string name;
  double ms;
  double tflops;
};
std::vector<Row> g_rows;

void report(const std::string& name, double ms, double flops) {
  const double tflops = flops / (ms * 1e-3) / 1e12;
  g_rows.push_back({name, ms, tflops});
  std::printf("%-44s %10.4f ms %9.1f TFLOP/s\n", name.c_str(), ms, tflops);
  std::fflush(stdout);
}

void bench_gemm(cudaStream_t s, Timer& timer) {
  for (int64_t n : {4096, 8192}) {
    DeviceBuffer a(n * n * 2), b(n * n * 2), c(n * n * 2), ws(cuda::blas::kWorkspaceBytes);
    fill_bf16(a, 1), fill_bf16(b, 2);
    const double flops = 2.0 * n * n * n;
    const std::string shape = std::to_string(n) + "^3";
    cuda::blas::GemmArgs g;
    g.m = g.n = g.k = n;
    g.lda = g.ldb = g.ldc = n;
    g.ab_type = g.c_type = DType::kBF16;
    g.op = "bench matmul";
    DirectGemm direct(n, n, n, ws.ptr, ws.bytes);
    // Interleave the two twice so that clock drift hits both alike.
    for (int round = 0; round < 2; ++round) {
      const double ours = timer.median_ms([&] { cuda::blas::gemm(g, a.ptr, b.ptr, c.ptr, s); });
      const double base = timer.median_ms([&] { direct.run(a.ptr, b.ptr, c.ptr, s); });
      if (round == 1) {
        report("gemm_bf16/" + shape + "/chorus", ours, flops);
        report("gemm_bf16/" + shape + "/direct_cublaslt", base, flops);
      }
    }
  }
  // FP8 e4m3 x e4m3 -> bf16, TN, per-tensor scales.
  {
    const int64_t n = 8192;
    DeviceBuffer a(n * n), b(n * n), c(n * n * 2), scales(32);
    std::vector<uint8_t> host(n * n);
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (auto& x : host) x = float_to_fp8e4m3(u(rng));
    cuda_ok(cudaMemcpy(a.ptr, host.data(), host.size(), cudaMemcpyHostToDevice), "upload");
    cuda_ok(cudaMemcpy(b.ptr, host.data(), host.size(), cudaMemcpyHostToDevice), "upload");
    const float sc[5] = {0.5f, 0.f, 0.f, 0.f, 2.f};  // scales 16 bytes apart (see gemm_test.cc)
    cuda_ok(cudaMemcpy(scales.ptr, sc, sizeof(sc), cudaMemcpyHostToDevice), "upload");
    cuda::blas::GemmArgs g;
    g.m = g.n = g.k = n;
    g.trans_b = true;
    g.lda = g.ldb = g.ldc = n;
    g.ab_type = DType::kF8E4M3;
    g.c_type = DType::kBF16;
    g.scale_a = scales.as<float>();
    g.scale_b = scales.as<float>() + 4;
    g.op = "bench fp8_matmul";
    report("gemm_fp8_e4m3/8192^3/chorus",
           timer.median_ms([&] { cuda::blas::gemm(g, a.ptr, b.ptr, c.ptr, s); }), 2.0 * n * n * n);
  }
}

void bench_attention(cudaStream_t s, Timer& timer) {
  const int64_t h = 16, d = 128, tokens = 16384;
  for (int64_t seq : {1024, 2048, 4096, 8192, 16384}) {
    const int64_t b = std::max<int64_t>(1, tokens / seq);
    const int64_t elems = b * h * seq * d;
    DeviceBuffer q(elems * 2), k(elems * 2), v(elems * 2), o(elems * 2), dout(elems * 2),
        dq(elems * 2), dk(elems * 2), dv(elems * 2), stats(b * h * seq * 4);
    fill_bf16(q, 11), fill_bf16(k, 12), fill_bf16(v, 13), fill_bf16(dout, 14);
    for (bool causal : {false, true}) {
      cuda::dnn::SdpaProblem p;
      p.b = b, p.h = h, p.s_q = p.s_kv = seq, p.d = p.d_v = d;
      p.dtype = DType::kBF16;
      p.scale = 1.f / std::sqrt(static_cast<float>(d));
      p.causal = causal;
      const std::array<int64_t, 4> dense{h * seq * d, seq * d, d, 1};
      p.q = p.k = p.v = p.o = p.dout = p.dq = p.dk = p.dv = dense;
      const double fwd_flops = 4.0 * b * h * seq * seq * d * (causal ? 0.5 : 1.0);
      const std::string name =
          "attention_bf16_d128/seq" + std::to_string(seq) + (causal ? "/causal" : "/full");
      try {
        auto fwd = [&] {
          cuda::dnn::sdpa_forward(p, q.ptr, k.ptr, v.ptr, o.ptr, stats.as<float>(), nullptr,
                                  nullptr, s);
        };
        auto bwd = [&] {
          cuda::dnn::sdpa_backward(p, q.ptr, k.ptr, v.ptr, o.ptr, dout.ptr, stats.as<float>(),
                                   dq.ptr, dk.ptr, dv.ptr, nullptr, nullptr, s);
        };
        const double t_fwd = timer.median_ms(fwd);
        const double t_bwd = timer.median_ms(bwd);
        const double t_all = timer.median_ms([&] { fwd(), bwd(); });
        report(name + "/fwd/chorus", t_fwd, fwd_flops);
        report(name + "/bwd/chorus", t_bwd, 2.5 * fwd_flops);
        report(name + "/fwd+bwd/chorus", t_all, 3.5 * fwd_flops);
      } catch (const std::exception& e) {
        std::printf("%s: FAILED: %s\n", name.c_str(), e.what());
      }
    }
  }
}

void bench_conv(cudaStream_t s, Timer& timer) {
  struct Shape {
    const char* name;
    cuda::dnn::ConvProblem p;
  };
  std::vector<Shape> shapes;
  {
    cuda::dnn::ConvProblem p;
    p.n = 32, p.c = 128, p.h = 56, p.w = 56, p.o = 128, p.kh = p.kw = 3, p.pad_h = p.pad_w = 1;
    p.out_h = 56, p.out_w = 56;
    shapes.push_back({"conv2d_bf16/n32_c128_56x56_k3", p});
  }
  {
    cuda::dnn::ConvProblem p;  // conv1d as a height-1 conv2d
    p.n = 16, p.c = 512, p.h = 1, p.w = 4096, p.o = 512, p.kh = 1, p.kw = 3, p.pad_w = 1;
    p.out_h = 1, p.out_w = 4096;
    shapes.push_back({"conv1d_bf16/n16_c512_l4096_k3", p});
  }
  for (auto& [name, p] : shapes) {
    p.dtype = DType::kBF16;
    DeviceBuffer x(p.n * p.c * p.h * p.w * 2), w(p.o * p.c * p.kh * p.kw * 2),
        y(p.n * p.o * p.out_h * p.out_w * 2), dx(x.bytes), dw(w.bytes);
    fill_bf16(x, 21), fill_bf16(w, 22, 0.1f), fill_bf16(y, 23);
    const double flops = 2.0 * p.n * p.o * p.out_h * p.out_w * p.c * p.kh * p.kw;
    try {
      report(std::string(name) + "/fwd/chorus",
             timer.median_ms([&] { cuda::dnn::conv_forward(p, x.ptr, w.ptr, nullptr, y.ptr, s); }),
             flops);
      report(std::string(name) + "/bwd_data/chorus",
             timer.median_ms([&] { cuda::dnn::conv_backward_data(p, y.ptr, w.ptr, dx.ptr, s); }),
             flops);
      report(std::string(name) + "/bwd_filter/chorus",
             timer.median_ms([&] { cuda::dnn::conv_backward_filter(p, y.ptr, x.ptr, dw.ptr, s); }),
             flops);
    } catch (const std::exception& e) {
      std::printf("%s: FAILED: %s\n", name, e.what());
    }
  }
}

}  // namespace
}  // namespace chorus::bench

int main(int argc, char** argv) {
  using namespace chorus::bench;
  std::string out = "bench_gpu.json";
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--out") == 0) out = argv[i + 1];
  }
  cudaDeviceProp prop{};
  cuda_ok(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  std::printf("device: %s, %d SMs, L2 %d MB\n", prop.name, prop.multiProcessorCount,
              prop.l2CacheSize >> 20);
  cudaStream_t s;
  cuda_ok(cudaStreamCreate(&s), "cudaStreamCreate");
  {
    Timer timer(s);
    try {
      bench_gemm(s, timer);
    } catch (const std::exception& e) {
      std::printf("gemm: FAILED: %s\n", e.what());
    }
    bench_attention(s, timer);
    bench_conv(s, timer);
  }

  nlohmann::json j;
  j["device"] = prop.name;
  for (const auto& r : g_rows)
    j["results"].push_back({{"name", r.name}, {"ms", r.ms}, {"tflops", r.tflops}});
  std::ofstream(out) << j.dump(2) << "\n";
  std::printf("wrote %s\n", out.c_str());
  return 0;
}
