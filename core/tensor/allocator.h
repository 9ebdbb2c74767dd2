// Memory allocators, one per device kind.
//
// The CPU allocator returns 64-byte aligned blocks (a cache line, and the widest AVX-512
// vector) and keeps statistics. The CUDA backend registers its caching allocator with
// set_allocator() when it is built; the tensor layer never includes CUDA headers.
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
};

inline constexpr size_t kCpuAlignment = 64;

// The allocator for a device kind; throws if none is registered (e.g. CUDA in a CPU build).
Allocator& allocator_for(Device device);
void set_allocator(Device::Kind kind, Allocator* allocator);
bool has_allocator(Device::Kind kind);

}  // namespace chorus
