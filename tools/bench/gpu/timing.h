// Timing and data helpers of the GPU benchmark: CUDA-event timing with an L2 flush before each
// timed run (METHOD.md: warm up, flush, many repeats, median), and random device buffers.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "core/tensor/float_formats.h"

namespace chorus::bench {

inline void cuda_ok(cudaError_t st, const char* what) {
  if (st != cudaSuccess) {
    std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(st));
    std::exit(1);
  }
}

// A device buffer freed on scope exit.
struct DeviceBuffer {
  void* ptr = nullptr;
  size_t bytes = 0;
  explicit DeviceBuffer(size_t n) : bytes(n) {
    cuda_ok(cudaMalloc(&ptr, std::max<size_t>(n, 1)), "cudaMalloc");
  }
  ~DeviceBuffer() { cudaFree(ptr); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  template <class T>
  T* as() const {
    return static_cast<T*>(ptr);
  }
};

// Uniform(-1, 1) values rounded to bf16 (2 bytes each); never zeros, which run faster.
inline void fill_bf16(DeviceBuffer& b, uint64_t seed, float amplitude = 1.f) {
  std::vector<uint16_t> host(b.bytes / 2);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-amplitude, amplitude);
  for (auto& x : host) x = float_to_bf16(u(rng));
  cuda_ok(cudaMemcpy(b.ptr, host.data(), host.size() * 2, cudaMemcpyHostToDevice), "upload");
}

class Timer {
 public:
  Timer(cudaStream_t s) : stream_(s), flush_(size_t{256} << 20) {
    cuda_ok(cudaEventCreate(&start_), "cudaEventCreate");
    cuda_ok(cudaEventCreate(&stop_), "cudaEventCreate");
  }
  ~Timer() {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }
  // Median milliseconds of `f` over `iters` runs after `warmup` runs; the L2 is flushed (a
  // 256 MiB memset, larger than the 60 MB L2) before each timed run, outside the timing.
  template <class F>
  double median_ms(F&& f, int warmup = 5, int iters = 20) {
    for (int i = 0; i < warmup; ++i) f();
    cuda_ok(cudaStreamSynchronize(stream_), "warm-up");
    std::vector<float> t;
    for (int i = 0; i < iters; ++i) {
      cuda_ok(cudaMemsetAsync(flush_.ptr, i & 0xff, flush_.bytes, stream_), "flush");
      cuda_ok(cudaEventRecord(start_, stream_), "cudaEventRecord");
      f();
      cuda_ok(cudaEventRecord(stop_, stream_), "cudaEventRecord");
      cuda_ok(cudaEventSynchronize(stop_), "cudaEventSynchronize");
      float ms = 0;
      cuda_ok(cudaEventElapsedTime(&ms, start_, stop_), "cudaEventElapsedTime");
      t.push_back(ms);
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
  }

 private:
  cudaStream_t stream_;
  DeviceBuffer flush_;
  cudaEvent_t start_, stop_;
};

}  // namespace chorus::bench
