// Placeholder translation unit of the CUDA backend: proves the CUDA toolchain builds into
// libchorus_core. The CUDA backend issue fills core/ops/cuda with kernels.
#include <cuda_runtime.h>

namespace chorus::cuda {

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) return 0;
  return n;
}

}  // namespace chorus::cuda
