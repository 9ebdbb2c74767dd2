// Hook for copies that involve a non-CPU device. The CUDA backend installs it at load time;
// Tensor::copy_ uses it whenever either side is not on the CPU.
#pragma once

namespace chorus {

class Tensor;
using DeviceCopyFn = void (*)(const Tensor& dst, const Tensor& src);
void set_device_copy(DeviceCopyFn fn);

}  // namespace chorus
