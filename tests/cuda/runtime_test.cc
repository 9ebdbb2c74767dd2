// The CUDA runtime: devices, the caching allocator, streams and events, errors.
#include "core/ops/cuda/runtime.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/ops/cuda/pinned_uploads.h"
#include "core/ops/elementwise.h"
#include "core/tensor/allocator.h"
#include "tests/cuda/parity.h"

namespace chorus::parity {
namespace {

TEST(CudaRuntime, DeviceSelection) {
  CHORUS_REQUIRE_GPU();
  const auto d = Device::Parse("cuda:0");
  ASSERT_TRUE(d.ok());
  const Tensor t = Tensor::ones({3}, DType::kF32, *d);
  EXPECT_EQ(t.device(), Device::cuda(0));
  EXPECT_EQ(t.to(Device::cpu()).to_vector<float>(), std::vector<float>({1, 1, 1}));
  // A device that does not exist is an error naming it.
  const int n = cuda::device_count();
  try {
    Tensor::empty({4}, DType::kF32, Device::cuda(n));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cuda:" + std::to_string(n)), std::string::npos)
        << e.what();
  }
}

TEST(CudaRuntime, CachingAllocatorReusesBlocks) {
  CHORUS_REQUIRE_GPU();
  cuda::empty_cache();
  const AllocatorStats before = cuda::memory_stats(0);
  void* first;
  {
    Tensor t = Tensor::empty({1 << 20}, DType::kF32, gpu());
    first = t.raw_data();
    EXPECT_GE(cuda::memory_stats(0).current_bytes, before.current_bytes + (4 << 20));
  }
  const AllocatorStats freed = cuda::memory_stats(0);
  EXPECT_GE(freed.cached_bytes, 4 << 20);
  EXPECT_EQ(freed.current_bytes, before.current_bytes);
  {
    Tensor t = Tensor::empty({1 << 20}, DType::kF32, gpu());
    EXPECT_EQ(t.raw_data(), first) << "a freed block of the same size class is reused";
  }
  EXPECT_GE(cuda::memory_stats(0).peak_bytes, before.current_bytes + (4 << 20));
  cuda::empty_cache();
  EXPECT_EQ(cuda::memory_stats(0).cached_bytes, 0);
}

TEST(CudaRuntime, OutOfMemoryNamesSizes) {
  CHORUS_REQUIRE_GPU();
  try {
    Tensor::empty({int64_t{1} << 50}, DType::kF32, gpu());
    FAIL() << "expected an out-of-memory error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("out of memory"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::to_string(int64_t{4} << 50)), std::string::npos) << msg;
    EXPECT_NE(msg.find("cached"), std::string::npos) << msg;
  }
  // The device is still usable afterwards.
  EXPECT_EQ(add(Tensor::ones({2}, DType::kF32, gpu()), 1.0).to(Device::cpu()).to_vector<float>(),
            std::vector<float>({2, 2}));
}

TEST(CudaRuntime, StreamsAndEvents) {
  CHORUS_REQUIRE_GPU();
  cuda::Stream s(0);
  cuda::Event start(0), stop(0);
  Tensor out;
  {
    cuda::StreamGuard guard(s);
    EXPECT_EQ(cuda::current_stream(0), s.handle());
    start.record(s.handle());
    out = mul(Tensor::full({1 << 16}, 3.0, DType::kF32, gpu()), 2.0);
    stop.record(s.handle());
  }
  EXPECT_EQ(cuda::current_stream(0), nullptr);
  stop.synchronize();
  EXPECT_GE(stop.elapsed_ms(start), 0.0f);
  EXPECT_EQ(out.to(Device::cpu()).to_vector<float>()[12345], 6.0f);
}

// Host-to-device copies return without waiting for the stream (pinned_uploads.h): queued behind
// ~25 ms of device work they are still in flight when the call returns, the host buffer may be
// rewritten at once, and each device tensor holds the bytes of its own moment.
TEST(CudaRuntime, UploadsDoNotWaitAndKeepTheirBytes) {
  CHORUS_REQUIRE_GPU();
  Tensor busy = Tensor::ones({int64_t{1} << 26}, DType::kF32, gpu());
  for (int i = 0; i < 200; ++i) busy = mul(busy, 1.0);  // queued device work
  Tensor host = Tensor::zeros({1000}, DType::kF32);
  float* h = host.data<float>();
  std::vector<Tensor> uploaded;
  for (int round = 0; round < 8; ++round) {
    for (int i = 0; i < 1000; ++i) h[i] = static_cast<float>(round * 1000 + i);
    uploaded.push_back(host.to(gpu()));  // then overwritten by the next round
  }
  EXPECT_GE(cuda::upload_pool_stats().in_flight, 1u) << "the uploads waited for the stream";
  // Sizes across the pool's classes, reused blocks, and one above kMaxUploadBytes (the staged,
  // synchronous path).
  std::vector<Tensor> sized;
  std::vector<int64_t> sizes = {1, 3, 1024, 4097, 1 << 20, 5 << 20};
  sizes.push_back(static_cast<int64_t>(cuda::kMaxUploadBytes / 4) + 7);
  for (int64_t n : sizes) sized.push_back(Tensor::full({n}, static_cast<double>(n), DType::kF32));
  std::vector<Tensor> sized_device;
  for (const Tensor& t : sized) sized_device.push_back(t.to(gpu()));
  for (int round = 0; round < 8; ++round) {
    const std::vector<float> v = uploaded[round].to(Device::cpu()).to_vector<float>();
    ASSERT_EQ(v.size(), 1000u);
    for (int i = 0; i < 1000; i += 137) {
      EXPECT_EQ(v[i], static_cast<float>(round * 1000 + i)) << "round " << round << " at " << i;
    }
  }
  for (size_t i = 0; i < sizes.size(); ++i) {
    const std::vector<float> v = sized_device[i].to(Device::cpu()).to_vector<float>();
    ASSERT_EQ(static_cast<int64_t>(v.size()), sizes[i]);
    EXPECT_EQ(v.front(), static_cast<float>(sizes[i]));
    EXPECT_EQ(v.back(), static_cast<float>(sizes[i]));
  }
  EXPECT_EQ(busy.to(Device::cpu()).to_vector<float>()[77], 1.0f);
  EXPECT_EQ(cuda::upload_pool_stats().in_flight, 0u);  // all done once the stream was read
}

TEST(CudaRuntime, MixedDevicesAreAnError) {
  CHORUS_REQUIRE_GPU();
  const Tensor a = Tensor::ones({3}, DType::kF32, gpu()), b = Tensor::ones({3});
  EXPECT_THROW(add(a, b), Error);
  // A 0-dim host tensor joins a device tensor (like a Python scalar in PyTorch).
  EXPECT_EQ(add(a, Tensor::scalar(2.0)).to(Device::cpu()).to_vector<float>(),
            std::vector<float>({3, 3, 3}));
}

}  // namespace
}  // namespace chorus::parity
