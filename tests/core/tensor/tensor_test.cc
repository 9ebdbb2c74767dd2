#include "core/tensor/tensor.h"

#include <gtest/gtest.h>

#include "core/tensor/allocator.h"

namespace chorus {
namespace {

TEST(Tensor, FactoriesFillAndReportMetadata) {
  Tensor t = Tensor::full({2, 3}, 1.5);
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.strides(), (Shape{3, 1}));
  EXPECT_EQ(t.numel(), 6);
  EXPECT_TRUE(t.is_contiguous());
  for (float v : t.to_vector<float>()) EXPECT_EQ(v, 1.5f);
  EXPECT_EQ(Tensor::arange(2, 11, 3).to_vector<int64_t>(), (std::vector<int64_t>{2, 5, 8}));
}

TEST(Tensor, CpuAllocatorIsAlignedAndCounts) {
  const auto before = allocator_for(Device::cpu()).stats();
  {
    Tensor t = Tensor::empty({1000}, DType::kF32);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % kCpuAlignment, 0u);
    const auto during = allocator_for(Device::cpu()).stats();
    EXPECT_EQ(during.current_bytes - before.current_bytes, 4000);
    EXPECT_GE(during.peak_bytes, during.current_bytes);
  }
  EXPECT_EQ(allocator_for(Device::cpu()).stats().current_bytes, before.current_bytes);
}

}  // namespace
}  // namespace chorus

namespace chorus {
namespace {

TEST(CpuAllocator, ReusesLargeBlocksAndEmptiesTheCache) {
#if defined(__SANITIZE_ADDRESS__)
  constexpr bool kCaches = false;  // the sanitizer build frees every block
#else
  constexpr bool kCaches = true;
#endif
  Allocator& a = allocator_for(Device::cpu());
  a.empty_cache();
  const size_t big = 3 * kCpuCacheMinBlock + 100;
  void* p = a.allocate(big, Device::cpu());
  a.deallocate(p, big, Device::cpu());
  if (kCaches) {
    EXPECT_GE(a.stats().cached_bytes, static_cast<int64_t>(big));
  } else {
    EXPECT_EQ(a.stats().cached_bytes, 0);
  }
  void* q = a.allocate(big - 50, Device::cpu());  // same rounded size: the cached block
  if (kCaches) EXPECT_EQ(q, p);
  EXPECT_EQ(a.stats().cached_bytes, 0);
  a.deallocate(q, big - 50, Device::cpu());
  a.empty_cache();
  EXPECT_EQ(a.stats().cached_bytes, 0);
  // Small blocks are never cached.
  void* s = a.allocate(1000, Device::cpu());
  a.deallocate(s, 1000, Device::cpu());
  EXPECT_EQ(a.stats().cached_bytes, 0);
}

}  // namespace
}  // namespace chorus
