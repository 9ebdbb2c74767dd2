// device_kernel_dtype (see device_dtype.h).
#include "core/ops/device_dtype.h"

#include <atomic>

#include "core/ops/operands.h"

namespace chorus::ops_internal {
namespace {
std::atomic<bool> g_native_half{false};
}  // namespace

DType device_kernel_dtype(DType dtype, Device device) {
  if (device.is_cuda() && g_native_half.load(std::memory_order_relaxed) &&
      (dtype == DType::kBF16 || dtype == DType::kF16)) {
    return dtype;
  }
  return kernel_dtype(dtype);
}

bool enable_native_half_kernels() {
  g_native_half.store(true, std::memory_order_relaxed);
  return true;
}

}  // namespace chorus::ops_internal
