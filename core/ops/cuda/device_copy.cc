// Tensor::copy_ and Tensor::fill_ for CUDA tensors (installed as the tensor layer's hooks):
// device-to-device strided copies with dtype conversion run as one kernel; host<->device
// copies move a contiguous buffer (through a pinned staging buffer when large) and let the
// CPU or a device kernel do any layout or dtype change on its own side.
#include "core/tensor/device_copy.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>

#include "core/ops/cuda/check.h"
#include "core/ops/cuda/copy_kernels.h"
#include "core/ops/cuda/pinned_uploads.h"
#include "core/ops/cuda/tensor_operands.h"
#include "core/tensor/dispatch.h"
#include "core/tensor/op_profile.h"
#include "core/tensor/tensor.h"

namespace chorus::cuda {
namespace {

constexpr size_t kStagingChunk = size_t{32} << 20;
constexpr size_t kStagingMin = size_t{1} << 20;

// Same-device copy (any layout, any dtypes).
void copy_on_device(const Tensor& dst, const Tensor& src) {
  const int d = device_index(dst, "copy_");
  DeviceGuard guard(d);
  Operand ops[2];
  const Geometry geo = make_geometry(dst.shape(), {&dst, &src}, ops);
  if (dst.dtype() == src.dtype() && ops[0].contiguous && ops[1].contiguous) {
    CHORUS_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), dst.nbytes(),
                                      cudaMemcpyDeviceToDevice, current_stream(d)),
                      describe("copy_", {&dst, &src}));
    return;
  }
  launch_copy(geo, ops[0], dst.dtype(), ops[1], src.dtype(), current_stream(d));
  check_launch("copy_", describe("copy_", {&dst, &src}));
}

// Copies `nbytes` between host memory and a device buffer, on the device's current stream.
// Downloads wait for the copy (the host reads the bytes next); uploads up to kMaxUploadBytes
// return as soon as the source may be reused, without waiting for the stream
// (pinned_uploads.h).
void transfer(void* to, const void* from, size_t nbytes, bool to_device, int device) {
  DeviceGuard guard(device);
  const StreamHandle stream = current_stream(device);
  if (to_device && nbytes <= kMaxUploadBytes) return upload_async(to, from, nbytes, device, stream);
  if (nbytes < kStagingMin) {
    CHORUS_CUDA_CHECK(
        cudaMemcpyAsync(to, from, nbytes,
                        to_device ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost, stream),
        nbytes, " bytes ", to_device ? "to" : "from", " cuda:", device);
    CHORUS_CUDA_CHECK(cudaStreamSynchronize(stream), "copy of ", nbytes, " bytes on cuda:", device);
    return;
  }
  // Pageable memory is copied by the driver through its own small staging area; a large
  // pinned buffer of our own reaches full PCIe/NVLink-C2C bandwidth.
  char* staging = static_cast<char*>(pinned_staging(std::min(nbytes, kStagingChunk)));
  for (size_t done = 0; done < nbytes; done += kStagingChunk) {
    const size_t n = std::min(kStagingChunk, nbytes - done);
    if (to_device) {
      std::memcpy(staging, static_cast<const char*>(from) + done, n);
      CHORUS_CUDA_CHECK(cudaMemcpyAsync(static_cast<char*>(to) + done, staging, n,
                                        cudaMemcpyHostToDevice, stream),
                        nbytes, " bytes to cuda:", device);
      CHORUS_CUDA_CHECK(cudaStreamSynchronize(stream));
    } else {
      CHORUS_CUDA_CHECK(cudaMemcpyAsync(staging, static_cast<const char*>(from) + done, n,
                                        cudaMemcpyDeviceToHost, stream),
                        nbytes, " bytes from cuda:", device);
      CHORUS_CUDA_CHECK(cudaStreamSynchronize(stream));
      std::memcpy(static_cast<char*>(to) + done, staging, n);
    }
  }
}

Tensor contiguous_copy(const Tensor& t, DType dtype, Device device) {
  if (t.dtype() == dtype && t.is_contiguous() && t.device() == device) return t;
  Tensor out = Tensor::empty(t.shape(), dtype, device);
  out.copy_(t);
  return out;
}

void device_copy(const Tensor& dst, const Tensor& src) {
  if (dst.numel() == 0) return;
  const Device dd = dst.device(), sd = src.device();
  if (dd.is_cuda() && sd.is_cuda()) {
    if (dd == sd) return copy_on_device(dst, src);
    // Across devices: a contiguous buffer of src's dtype is copied peer to peer.
    Tensor from = contiguous_copy(src, src.dtype(), sd);
    Tensor to = dst.is_contiguous() && dst.dtype() == src.dtype()
                    ? dst
                    : Tensor::empty(dst.shape(), src.dtype(), dd);
    synchronize(sd.index());
    DeviceGuard guard(dd.index());
    CHORUS_CUDA_CHECK(cudaMemcpyPeerAsync(to.raw_data(), dd.index(), from.raw_data(), sd.index(),
                                          from.nbytes(), current_stream(dd.index())),
                      describe("copy_", {&dst, &src}), " from ", sd.ToString(), " to ",
                      dd.ToString());
    if (!to.is_same(dst)) copy_on_device(dst, to);
    return;
  }
  if (dd.is_cuda()) {  // host -> device
    device_index(dst, "copy_");
    Tensor host = contiguous_copy(src, src.dtype(), Device::cpu());
    Tensor to = dst.is_contiguous() && dst.dtype() == src.dtype()
                    ? dst
                    : Tensor::empty(dst.shape(), src.dtype(), dd);
    transfer(to.raw_data(), host.raw_data(), host.nbytes(), true, dd.index());
    if (!to.is_same(dst)) copy_on_device(dst, to);
    return;
  }
  // device -> host
  device_index(src, "copy_");
  Tensor from = contiguous_copy(src, src.dtype(), sd);
  if (dst.is_contiguous() && dst.dtype() == src.dtype()) {
    transfer(dst.raw_data(), from.raw_data(), from.nbytes(), false, sd.index());
    return;
  }
  Tensor host = Tensor::empty(src.shape(), src.dtype(), Device::cpu());
  transfer(host.raw_data(), from.raw_data(), from.nbytes(), false, sd.index());
  dst.copy_(host);
}

void device_fill(const Tensor& dst, double value) {
  if (dst.numel() == 0) return;
  const int d = device_index(dst, "fill_");
  // The element's bit pattern, made by the host conversion routines.
  uint64_t bits = 0;
  store_from_double(&bits, 0, dst.dtype(), value);
  DeviceGuard guard(d);
  Operand op;
  const Geometry geo = make_geometry(dst.shape(), {&dst}, &op);
  launch_fill(geo, op, dst.itemsize(), bits, current_stream(d));
  check_launch("fill_", describe("fill_", {&dst}));
}

[[maybe_unused]] const bool kRegistered = [] {
  set_device_copy(&device_copy);
  set_device_fill(&device_fill);
  profile::set_device_sync([](Device device) { synchronize(device.index()); });
  return true;
}();

}  // namespace
}  // namespace chorus::cuda
