// Device dispatch of op kernels (ggml-backend style): one registry slot per CPU kernel.
//
// WHY: the op front-ends (core/ops/*.cc) must compile to the same object code with and without
// the CUDA backend, so that ccache reuses the CPU preset's objects in the cuda preset and the
// CPU build never sees a CUDA header or an #ifdef. Front-ends therefore never name a device
// backend; they call a kernel through its slot, and backends fill slots at static init.
//
// The pattern, for a kernel `cpu::foo_kernel(const Tensor& out, const Tensor& x, double a)`:
//
//   front-end (core/ops/foo.cc), the same code for every device:
//     CHORUS_KERNEL(cpu::foo_kernel)(out, x, a);
//   CUDA backend (core/ops/cuda/foo.cc, built only with CHORUS_CUDA=ON), same signature:
//     void cuda_foo(const Tensor& out, const Tensor& x, double a) { ... launch ... }
//     CHORUS_REGISTER_CUDA_KERNEL(cpu::foo_kernel, cuda_foo);
//
// The device is that of the first tensor argument not on the host (front-ends check that
// operands share a device). The slot is keyed by the CPU kernel's address, so its signature is the
// CPU kernel's and a mismatching CUDA kernel fails to compile. Default arguments do not survive a
// function pointer: pass every argument. A CUDA tensor reaching a slot with no CUDA kernel runs the
// CPU kernel on host copies (host_fallback below): correct but slow, and counted, so the parity
// suite can report which ops run natively. Kernels that a front-end can skip (fast paths,
// e.g. a cuBLASLt GEMM) follow the same pattern with their own slot.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/tensor/op_profile.h"
#include "core/tensor/tensor.h"

namespace chorus::ops_internal {

// The CUDA entry of the slot of CPU kernel `CpuFn` (null until a backend registers one).
template <auto CpuFn>
struct KernelSlot {
  using Fn = std::remove_pointer_t<decltype(CpuFn)>;
  static inline Fn* cuda = nullptr;
};

// Counts host fallbacks per kernel name (for tests and diagnostics).
void note_host_fallback(const char* kernel);
// Kernel names that ran through the host fallback since start, with counts.
std::vector<std::pair<std::string, int64_t>> host_fallback_counts();

// Runs a CPU kernel on host copies of its CUDA tensor arguments and copies every mirrored
// storage back afterwards (so outputs written in place reach the device). Arguments sharing a
// storage share one mirror, so aliasing between them is kept.
class HostMirror {
 public:
  HostMirror() = default;
  HostMirror(const HostMirror&) = delete;
  // `t` itself when it is undefined or on the host, else a host view of a host copy of its
  // storage (same shape, strides and offset).
  const Tensor& mirror(const Tensor& t);
  // Copies every mirrored storage back to its device.
  void finish();

 private:
  struct Entry {
    std::shared_ptr<Storage> device, host;
  };
  std::vector<Entry> entries_;
  std::vector<std::unique_ptr<Tensor>> keep_;  // host views handed out (stable addresses)
};

template <class T>
decltype(auto) mirror_arg(HostMirror& m, T&& a) {
  if constexpr (std::is_same_v<std::decay_t<T>, Tensor>) {
    return static_cast<const Tensor&>(m.mirror(a));
  } else {
    return std::forward<T>(a);
  }
}

template <auto CpuFn, class... A>
decltype(auto) host_fallback(const char* name, A&&... args) {
  note_host_fallback(name);
  HostMirror m;
  using R = decltype(CpuFn(std::forward<A>(args)...));
  if constexpr (std::is_void_v<R>) {
    CpuFn(mirror_arg(m, std::forward<A>(args))...);
    m.finish();
  } else {
    R r = CpuFn(mirror_arg(m, std::forward<A>(args))...);
    m.finish();
    return r;
  }
}

template <class T>
bool on_cpu(const T& a) {
  if constexpr (std::is_same_v<std::decay_t<T>, Tensor>) {
    return !a.defined() || a.device().is_cpu();
  } else {
    return true;
  }
}

// The device the arguments live on: the first CUDA tensor's device, else the CPU.
inline Device kernel_device() { return Device::cpu(); }
template <class T, class... Rest>
Device kernel_device(const T& a, const Rest&... rest) {
  if constexpr (std::is_same_v<std::decay_t<T>, Tensor>) {
    if (a.defined() && !a.device().is_cpu()) return a.device();
  }
  return kernel_device(rest...);
}

// Calls the CPU kernel when every tensor argument is on the host, else the registered CUDA
// kernel, else the host fallback.
template <auto CpuFn>
struct KernelCall {
  const char* name;
  template <class... A>
  decltype(auto) operator()(A&&... args) const {
    const Device device = kernel_device(args...);
    const profile::Scope scope(name, device);  // CHORUS_OP_PROFILE; a flag test when off
    if (device.is_cpu()) return CpuFn(std::forward<A>(args)...);
    if (KernelSlot<CpuFn>::cuda != nullptr) {
      return KernelSlot<CpuFn>::cuda(std::forward<A>(args)...);
    }
    return host_fallback<CpuFn>(name, std::forward<A>(args)...);
  }
};

template <auto CpuFn, class Fn>
bool register_cuda_kernel(Fn* fn) {
  KernelSlot<CpuFn>::cuda = fn;
  return true;
}

}  // namespace chorus::ops_internal

#define CHORUS_KERNEL(CPU_FN) \
  ::chorus::ops_internal::KernelCall<&CPU_FN> { #CPU_FN }

#define CHORUS_KERNEL_CONCAT_INNER(a, b) a##b
#define CHORUS_KERNEL_CONCAT(a, b) CHORUS_KERNEL_CONCAT_INNER(a, b)
#define CHORUS_REGISTER_CUDA_KERNEL(CPU_FN, CUDA_FN)                                       \
  [[maybe_unused]] static const bool CHORUS_KERNEL_CONCAT(chorus_cuda_kernel_, __LINE__) = \
      ::chorus::ops_internal::register_cuda_kernel<&CPU_FN>(&CUDA_FN)
