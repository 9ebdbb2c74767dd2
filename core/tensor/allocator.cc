#include "core/tensor/allocator.h"

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>

#include "core/tensor/error.h"

namespace chorus {
namespace {

// Under AddressSanitizer every block goes back to free() so that use-after-free is caught.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCacheBlocks = false;
#else
constexpr bool kCacheBlocks = true;
#endif

class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes, Device) override {
    const size_t rounded = block_size(nbytes);
    void* ptr = nullptr;
    if (rounded >= kCpuCacheMinBlock) {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = cache_.find(rounded);
      if (it != cache_.end()) {
        ptr = it->second;
        cache_.erase(it);
        cached_ -= static_cast<int64_t>(rounded);
      }
    }
    if (ptr == nullptr) {
      ptr = std::aligned_alloc(kCpuAlignment, rounded);
      CHORUS_CHECK(ptr != nullptr, "out of host memory: asked for ", nbytes, " bytes with ",
                   current_.load(), " bytes in use and ", cached_.load(), " cached");
    }
    int64_t now = current_.fetch_add(static_cast<int64_t>(nbytes)) + static_cast<int64_t>(nbytes);
    int64_t peak = peak_.load();
    while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
    }
    count_.fetch_add(1);
    return ptr;
  }
  void deallocate(void* ptr, size_t nbytes, Device) override {
    current_.fetch_sub(static_cast<int64_t>(nbytes));
    const size_t rounded = block_size(nbytes);
    if (kCacheBlocks && rounded >= kCpuCacheMinBlock) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cached_ + static_cast<int64_t>(rounded) <= kCpuCacheLimit) {
        cache_.emplace(rounded, ptr);
        cached_ += static_cast<int64_t>(rounded);
        return;
      }
    }
    std::free(ptr);
  }
  AllocatorStats stats() const override {
    return {current_.load(), peak_.load(), count_.load(), cached_.load()};
  }
  void reset_peak() override { peak_.store(current_.load()); }
  void empty_cache() override {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [size, ptr] : cache_) std::free(ptr);
    cache_.clear();
    cached_ = 0;
  }

 private:
  // aligned_alloc wants a multiple of the alignment; cached sizes are rounded to 64 KiB so
  // that tensors of nearly the same size share blocks.
  static size_t block_size(size_t nbytes) {
    size_t r = (nbytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
    if (r == 0) r = kCpuAlignment;
    if (r >= kCpuCacheMinBlock) r = (r + 65535) / 65536 * 65536;
    return r;
  }

  std::atomic<int64_t> current_{0}, peak_{0}, count_{0}, cached_{0};
  std::mutex mutex_;
  std::multimap<size_t, void*> cache_;
};

CpuAllocator& cpu_allocator() {
  static CpuAllocator* allocator = [] {
    // Tensor buffers are large and short-lived. With glibc's defaults every block above 128 KiB
    // is a fresh mmap, page-faulted in and unmapped at free: on VMs that costs more than the
    // ops themselves. Serving blocks up to 32 MiB (glibc's ceiling) from the heap and keeping
    // freed memory for reuse makes steady-state training allocate without faults.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    return new CpuAllocator();  // never destroyed: outlives all tensors
  }();
  return *allocator;
}

std::atomic<Allocator*> g_cuda_allocator{nullptr};

}  // namespace

Allocator& allocator_for(Device device) {
  if (device.is_cpu()) return cpu_allocator();
  Allocator* a = g_cuda_allocator.load();
  CHORUS_CHECK(a != nullptr, "no allocator for ", device.ToString(),
               ": this build of Chorus has no CUDA backend (configure with -DCHORUS_CUDA=ON)");
  return *a;
}

void set_allocator(Device::Kind kind, Allocator* allocator) {
  CHORUS_CHECK(kind == Device::Kind::kCuda, "the CPU allocator cannot be replaced");
  g_cuda_allocator.store(allocator);
}

bool has_allocator(Device::Kind kind) {
  return kind == Device::Kind::kCpu || g_cuda_allocator.load() != nullptr;
}

}  // namespace chorus
