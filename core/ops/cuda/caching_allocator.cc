// The caching CUDA allocator. cudaMalloc/cudaFree synchronise the device and cost tens of
// microseconds, far more than most kernels, so freed blocks are kept and handed out again.
//
// Blocks are rounded to size classes (512 B steps below 1 MiB; above, 8 steps per power of
// two, so at most 12.5% is wasted) and cached per (device, stream, class). Reuse is
// stream-ordered: a block freed on stream S only serves later requests on S, whose work runs
// after everything S did with the block before, so no event is needed.
#include <cuda_runtime.h>

#include <array>
#include <map>
#include <mutex>
#include <unordered_map>

#include "core/ops/cuda/check.h"
#include "core/ops/cuda/runtime.h"

namespace chorus::cuda {
namespace {

constexpr int kMaxDevices = 64;

size_t size_class(size_t nbytes) {
  constexpr size_t kSmallStep = 512, kLarge = size_t{1} << 20;
  if (nbytes == 0) return kSmallStep;
  if (nbytes < kLarge) return (nbytes + kSmallStep - 1) / kSmallStep * kSmallStep;
  size_t pow2 = kLarge;
  while (pow2 * 2 <= nbytes) pow2 *= 2;
  const size_t step = pow2 / 8;
  return (nbytes + step - 1) / step * step;
}

struct Block {
  size_t size;  // the size class
  StreamHandle stream;
};

struct DeviceState {
  std::multimap<std::pair<StreamHandle, size_t>, void*> free;  // cached blocks
  std::unordered_map<void*, Block> live;
  AllocatorStats stats;
};

class CachingAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes, Device device) override {
    check_device(device, "CUDA allocation");
    const int d = device.index();
    const size_t size = size_class(nbytes);
    const StreamHandle stream = current_stream(d);
    std::lock_guard<std::mutex> lock(mutex_);
    DeviceState& s = state_[d];
    void* ptr = nullptr;
    auto it = s.free.find({stream, size});
    if (it != s.free.end()) {
      ptr = it->second;
      s.free.erase(it);
      s.stats.cached_bytes -= static_cast<int64_t>(size);
    } else {
      DeviceGuard guard(d);
      cudaError_t status = cudaMalloc(&ptr, size);
      if (status == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        const int64_t cached = s.stats.cached_bytes;
        release(d);
        status = cudaMalloc(&ptr, size);
        if (status == cudaErrorMemoryAllocation) {
          cudaGetLastError();
          size_t free_bytes = 0, total = 0;
          cudaMemGetInfo(&free_bytes, &total);
          throw Error(detail::concat("CUDA out of memory on cuda:", d, ": asked for ", nbytes,
                                     " bytes (", size, " with rounding); ", s.stats.current_bytes,
                                     " bytes in use by tensors, ", cached,
                                     " bytes were cached (released and retried); device has ",
                                     free_bytes, " free of ", total));
        }
      }
      CHORUS_CUDA_CHECK(status, "allocating ", nbytes, " bytes on cuda:", d);
    }
    s.live[ptr] = {size, stream};
    s.stats.current_bytes += static_cast<int64_t>(size);
    s.stats.peak_bytes = std::max(s.stats.peak_bytes, s.stats.current_bytes);
    ++s.stats.total_allocations;
    return ptr;
  }

  void deallocate(void* ptr, size_t, Device device) override {
    std::lock_guard<std::mutex> lock(mutex_);
    DeviceState& s = state_[device.index()];
    auto it = s.live.find(ptr);
    if (it == s.live.end()) return;  // not ours: never happens for Storage-owned blocks
    const Block b = it->second;
    s.live.erase(it);
    s.stats.current_bytes -= static_cast<int64_t>(b.size);
    s.stats.cached_bytes += static_cast<int64_t>(b.size);
    s.free.emplace(std::make_pair(b.stream, b.size), ptr);
  }

  AllocatorStats stats() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    AllocatorStats total;
    for (const DeviceState& s : state_) {
      total.current_bytes += s.stats.current_bytes;
      total.peak_bytes += s.stats.peak_bytes;
      total.total_allocations += s.stats.total_allocations;
      total.cached_bytes += s.stats.cached_bytes;
    }
    return total;
  }

  AllocatorStats device_stats(int d) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return state_[d].stats;
  }

  void reset_peak() override {
    std::lock_guard<std::mutex> lock(mutex_);
    for (DeviceState& s : state_) s.stats.peak_bytes = s.stats.current_bytes;
  }

  void reset_device_peak(int d) {
    std::lock_guard<std::mutex> lock(mutex_);
    state_[d].stats.peak_bytes = state_[d].stats.current_bytes;
  }

  void empty_cache() override {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int d = 0; d < kMaxDevices; ++d) {
      if (!state_[d].free.empty()) release(d);
    }
  }

 private:
  // Frees every cached block of device d (caller holds the mutex). cudaFree waits for the
  // device, so work still using a cached block's stream has finished.
  void release(int d) {
    DeviceState& s = state_[d];
    DeviceGuard guard(d);
    for (auto& [key, ptr] : s.free) cudaFree(ptr);
    s.free.clear();
    s.stats.cached_bytes = 0;
  }

  mutable std::mutex mutex_;
  std::array<DeviceState, kMaxDevices> state_;
};

CachingAllocator& caching_allocator() {
  static auto* allocator = new CachingAllocator();  // never destroyed: outlives all tensors
  return *allocator;
}

[[maybe_unused]] const bool kRegistered = [] {
  set_allocator(Device::Kind::kCuda, &caching_allocator());
  return true;
}();

}  // namespace

AllocatorStats memory_stats(int device) { return caching_allocator().device_stats(device); }
void reset_peak_memory(int device) { caching_allocator().reset_device_peak(device); }
void empty_cache() { caching_allocator().empty_cache(); }

}  // namespace chorus::cuda
