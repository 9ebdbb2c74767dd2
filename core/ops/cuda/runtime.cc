#include "core/ops/cuda/runtime.h"

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "core/ops/cuda/check.h"

namespace chorus::cuda {

void throw_cuda_error(cudaError_t status, const char* call, const char* file, int line,
                      const std::string& context) {
  cudaGetLastError();  // clear a sticky launch error so the next call is not blamed for it
  throw Error(detail::concat("CUDA error ", cudaGetErrorName(status), " (",
                             cudaGetErrorString(status), ") in ", call,
                             context.empty() ? "" : " for ", context, " [", file, ":", line, "]"));
}

void check_launch(const char* op, const std::string& context) {
  const cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess) {
    throw Error(detail::concat("CUDA kernel launch failed for ", op, context.empty() ? "" : " ",
                               context, ": ", cudaGetErrorName(status), " (",
                               cudaGetErrorString(status), ")"));
  }
}

namespace {

constexpr int kMaxDevices = 64;
StreamHandle g_current[kMaxDevices] = {};  // null: the legacy default stream

}  // namespace

int device_count() {
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();
      return 0;
    }
    return n;
  }();
  return count;
}

bool is_available() { return device_count() > 0; }

void check_device(Device device, const char* what) {
  CHORUS_CHECK(device.is_cuda(), what, ": expected a CUDA device, got ", device.ToString());
  const int n = device_count();
  CHORUS_CHECK(device.index() >= 0 && device.index() < n && device.index() < kMaxDevices, what,
               ": ", device.ToString(), " does not exist (", n, " CUDA device", n == 1 ? "" : "s",
               " visible)");
}

StreamHandle current_stream(int device) {
  CHORUS_CHECK(device >= 0 && device < kMaxDevices, "current_stream: bad device ", device);
  return g_current[device];
}

void set_current_stream(int device, StreamHandle stream) {
  CHORUS_CHECK(device >= 0 && device < kMaxDevices, "set_current_stream: bad device ", device);
  g_current[device] = stream;
}

void synchronize(int device) {
  DeviceGuard guard(device);
  CHORUS_CUDA_CHECK(cudaStreamSynchronize(current_stream(device)), "synchronize cuda:", device);
}

DeviceGuard::DeviceGuard(int device) {
  CHORUS_CUDA_CHECK(cudaGetDevice(&previous_));
  if (previous_ != device) CHORUS_CUDA_CHECK(cudaSetDevice(device), "cuda:", device);
}

DeviceGuard::~DeviceGuard() {
  int now = -1;
  if (cudaGetDevice(&now) == cudaSuccess && now != previous_) cudaSetDevice(previous_);
}

Stream::Stream(int device) : device_(device) {
  DeviceGuard guard(device);
  CHORUS_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cuda:", device);
}

Stream::~Stream() {
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

void Stream::synchronize() const { CHORUS_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

StreamGuard::StreamGuard(const Stream& stream)
    : device_(stream.device()), previous_(current_stream(stream.device())) {
  set_current_stream(device_, stream.handle());
}

StreamGuard::~StreamGuard() { set_current_stream(device_, previous_); }

Event::Event(int device) : device_(device) {
  DeviceGuard guard(device);
  CHORUS_CUDA_CHECK(cudaEventCreate(&event_), "cuda:", device);
}

Event::~Event() {
  if (event_ != nullptr) cudaEventDestroy(event_);
}

void Event::record(StreamHandle stream) { CHORUS_CUDA_CHECK(cudaEventRecord(event_, stream)); }
void Event::wait(StreamHandle stream) const {
  CHORUS_CUDA_CHECK(cudaStreamWaitEvent(stream, event_, 0));
}
void Event::synchronize() const { CHORUS_CUDA_CHECK(cudaEventSynchronize(event_)); }
float Event::elapsed_ms(const Event& since) const {
  float ms = 0;
  CHORUS_CUDA_CHECK(cudaEventElapsedTime(&ms, since.event_, event_));
  return ms;
}

void* pinned_staging(size_t nbytes) {
  // One growing buffer per thread: staging is used for one copy at a time, synchronously.
  struct Buffer {
    void* ptr = nullptr;
    size_t size = 0;
    ~Buffer() {
      if (ptr != nullptr) cudaFreeHost(ptr);
    }
  };
  thread_local Buffer buffer;
  if (buffer.size < nbytes) {
    if (buffer.ptr != nullptr) CHORUS_CUDA_CHECK(cudaFreeHost(buffer.ptr));
    buffer.ptr = nullptr;
    size_t size = size_t{1} << 20;
    while (size < nbytes) size *= 2;
    CHORUS_CUDA_CHECK(cudaHostAlloc(&buffer.ptr, size, cudaHostAllocDefault),
                      "pinned staging buffer of ", size, " bytes");
    buffer.size = size;
  }
  return buffer.ptr;
}

}  // namespace chorus::cuda
