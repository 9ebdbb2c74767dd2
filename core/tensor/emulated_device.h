// A CUDA device emulated in host memory, for checking device plumbing without a GPU.
//
// emulate_cuda_on_host() registers, for Device::Kind::kCuda, an allocator that hands out host
// memory and copy/fill hooks that copy between host buffers. No CUDA kernel exists in such a
// build, so every op on "cuda:N" goes through the op front-ends' device path (same-device
// checks, host reads of indices, 0-dim host scalars) and then the counted host fallback, which
// runs the CPU kernels: results equal a CPU run bit for bit. What it catches is a tensor created
// on the wrong device (a mask, an index table, a label vector made on the host and mixed with
// device activations), a host-only read of device memory, or a checkpoint that forgets to
// stage device tensors; the errors are the ones a real GPU run would raise.
//
// Used by `chorus train --emulate-cuda` and by tests. Refused when a real CUDA backend is
// loaded (it owns the device kind).
#pragma once

#include "absl/status/status.h"

namespace chorus {

// Installs the emulated device; idempotent. FailedPrecondition when a real backend is loaded.
absl::Status emulate_cuda_on_host();
// Removes it again (tests); a no-op when it is not installed.
void stop_emulating_cuda();
bool cuda_is_emulated();

}  // namespace chorus
