// Memory allocators, one per device kind.
//
// The CPU allocator returns 64-byte aligned blocks (a cache line, and the widest AVX-512
// vector) and keeps statistics. Blocks of 1 MiB and more are cached when freed and handed out
// again for a request of the same rounded size: a fresh large block costs a page fault per
// 4 KiB on first touch, which on VMs is slower than the op writing it. At most
// kCpuCacheLimit bytes are kept; empty_cache() releases them. The CUDA backend registers its
// caching allocator with set_allocator() when it is built; the tensor layer never includes CUDA
// headers.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/tensor/device.h"

namespace chorus {

struct AllocatorStats {
  int64_t current_bytes = 0;  // live bytes handed out
  int64_t peak_bytes = 0;     // high-water mark of current_bytes since start or reset_peak()
  int64_t total_allocations = 0;
  int64_t cached_bytes = 0;  // bytes held in caches, not handed out (caching allocators)
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  // Returns a block of at least `nbytes` bytes (nbytes may be 0). Throws chorus::Error when
  // memory cannot be had, saying how much was asked.
  virtual void* allocate(size_t nbytes, Device device) = 0;
  virtual void deallocate(void* ptr, size_t nbytes, Device device) = 0;
  virtual AllocatorStats stats() const = 0;
  virtual void reset_peak() = 0;
  // Returns cached (freed but kept) blocks to the system.
  virtual void empty_cache() {}
};

inline constexpr size_t kCpuAlignment = 64;
inline constexpr size_t kCpuCacheMinBlock = size_t{1} << 20;
inline constexpr int64_t kCpuCacheLimit = int64_t{2} << 30;

// The allocator for a device kind; throws if none is registered (e.g. CUDA in a CPU build).
Allocator& allocator_for(Device device);
void set_allocator(Device::Kind kind, Allocator* allocator);
bool has_allocator(Device::Kind kind);

}  // namespace chorus
