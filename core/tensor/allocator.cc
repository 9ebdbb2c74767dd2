#include "core/tensor/allocator.h"

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "core/tensor/error.h"

namespace chorus {
namespace {

class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes, Device) override {
    // aligned_alloc wants a size that is a multiple of the alignment.
    size_t rounded = (nbytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
    if (rounded == 0) rounded = kCpuAlignment;
    void* ptr = std::aligned_alloc(kCpuAlignment, rounded);
    CHORUS_CHECK(ptr != nullptr, "out of host memory: asked for ", nbytes, " bytes with ",
                 current_.load(), " bytes in use");
    int64_t now = current_.fetch_add(static_cast<int64_t>(nbytes)) + static_cast<int64_t>(nbytes);
    int64_t peak = peak_.load();
    while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
    }
    count_.fetch_add(1);
    return ptr;
  }
  void deallocate(void* ptr, size_t nbytes, Device) override {
    std::free(ptr);
    current_.fetch_sub(static_cast<int64_t>(nbytes));
  }
  AllocatorStats stats() const override {
    return {current_.load(), peak_.load(), count_.load(), 0};
  }
  void reset_peak() override { peak_.store(current_.load()); }

 private:
  std::atomic<int64_t> current_{0}, peak_{0}, count_{0};
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
