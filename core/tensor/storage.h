// A block of memory on one device. Tensors share a Storage through std::shared_ptr, so views
// keep the memory alive. Storage can also wrap external memory (e.g. an mmap'ed file) with a
// custom release function.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "core/tensor/device.h"

namespace chorus {

class Storage {
 public:
  // Allocates `nbytes` on `device` with the device's registered allocator.
  Storage(size_t nbytes, Device device);
  // Wraps memory owned elsewhere; `release` runs when the last reference goes away.
  Storage(void* data, size_t nbytes, Device device, std::function<void()> release);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  std::function<void()> release_;  // empty: memory came from the allocator
};

}  // namespace chorus
