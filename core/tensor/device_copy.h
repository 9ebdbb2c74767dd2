// Hooks for copies and fills that involve a non-CPU device. The CUDA backend installs them at
// load time; Tensor::copy_ uses the copy hook whenever either side is not on the CPU, and
// Tensor::fill_ the fill hook for a tensor that is not on the CPU.
#pragma once

namespace chorus {

class Tensor;
using DeviceCopyFn = void (*)(const Tensor& dst, const Tensor& src);
void set_device_copy(DeviceCopyFn fn);
using DeviceFillFn = void (*)(const Tensor& dst, double value);
void set_device_fill(DeviceFillFn fn);

}  // namespace chorus
