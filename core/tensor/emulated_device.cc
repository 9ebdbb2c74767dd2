#include "core/tensor/emulated_device.h"

#include <cstdlib>
#include <memory>

#include "core/tensor/allocator.h"
#include "core/tensor/device_copy.h"
#include "core/tensor/tensor.h"

namespace chorus {
namespace {

bool g_emulated = false;

// The same memory seen as a host tensor (the emulated device's memory is host memory).
Tensor as_host(const Tensor& t) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage =
      std::make_shared<Storage>(t.storage()->data(), t.storage()->nbytes(), Device::cpu(), [] {});
  impl->shape = t.shape();
  impl->strides = t.strides();
  impl->offset = t.offset();
  impl->dtype = t.dtype();
  return Tensor(std::move(impl));
}

class HostMemoryAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes, Device) override {
    void* p = std::malloc(nbytes == 0 ? 1 : nbytes);
    CHORUS_CHECK(p != nullptr, "emulated cuda: out of host memory allocating ", nbytes, " bytes");
    return p;
  }
  void deallocate(void* ptr, size_t, Device) override { std::free(ptr); }
  AllocatorStats stats() const override { return {}; }
  void reset_peak() override {}
};

void copy_in_host_memory(const Tensor& dst, const Tensor& src) { as_host(dst).copy_(as_host(src)); }
void fill_in_host_memory(const Tensor& dst, double value) { as_host(dst).fill_(value); }

}  // namespace

absl::Status emulate_cuda_on_host() {
  if (g_emulated) return absl::OkStatus();
  if (has_allocator(Device::Kind::kCuda)) {
    return absl::FailedPreconditionError(
        "cannot emulate cuda: this build has a real CUDA backend, which owns the device");
  }
  static HostMemoryAllocator allocator;
  set_allocator(Device::Kind::kCuda, &allocator);
  set_device_copy(&copy_in_host_memory);
  set_device_fill(&fill_in_host_memory);
  g_emulated = true;
  return absl::OkStatus();
}

void stop_emulating_cuda() {
  if (!g_emulated) return;
  set_allocator(Device::Kind::kCuda, nullptr);
  set_device_copy(nullptr);
  set_device_fill(nullptr);
  g_emulated = false;
}

bool cuda_is_emulated() { return g_emulated; }

}  // namespace chorus
