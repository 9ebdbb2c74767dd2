// The CUDA runtime of the engine: devices, the per-device current stream, stream and event
// wrappers, allocator statistics and host-pinned staging buffers.
//
// This header does not include CUDA headers: cudaStream_t is `CUstream_st*` and
// cudaEvent_t is `CUevent_st*` in the CUDA runtime, so they are declared here as such and
// code that never launches anything (tests, tools, the other CUDA files' .cc wrappers) can
// include it without the toolkit's include path. Only built with CHORUS_CUDA=ON.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/tensor/allocator.h"
#include "core/tensor/device.h"

struct CUstream_st;
struct CUevent_st;

namespace chorus::cuda {

using StreamHandle = CUstream_st*;  // == cudaStream_t
using EventHandle = CUevent_st*;    // == cudaEvent_t

// Number of visible CUDA devices (0 when there is no driver or no device; never throws).
int device_count();
bool is_available();
// Throws chorus::Error naming `what` unless `device` is a valid cuda:N.
void check_device(Device device, const char* what);

// The stream ops on `device` run on. Defaults to the legacy default stream (nullptr), which
// orders every op of the engine with library calls that use it too.
StreamHandle current_stream(int device);
void set_current_stream(int device, StreamHandle stream);
// Waits until all work on the current stream of `device` has finished.
void synchronize(int device);

// RAII: makes `device` current for the calling thread and restores the previous one.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;
};

// An owned non-blocking stream.
class Stream {
 public:
  explicit Stream(int device);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  StreamHandle handle() const { return stream_; }
  int device() const { return device_; }
  void synchronize() const;

 private:
  int device_;
  StreamHandle stream_ = nullptr;
};

// RAII: makes `stream` the current stream of its device for a scope.
class StreamGuard {
 public:
  explicit StreamGuard(const Stream& stream);
  ~StreamGuard();
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

 private:
  int device_;
  StreamHandle previous_;
};

// An owned event (timing enabled), for ordering streams and measuring kernels.
class Event {
 public:
  explicit Event(int device);
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  void record(StreamHandle stream);
  void wait(StreamHandle stream) const;  // stream waits for this event
  void synchronize() const;
  float elapsed_ms(const Event& since) const;  // since.record ... this.record
  EventHandle handle() const { return event_; }

 private:
  int device_;
  EventHandle event_ = nullptr;
};

// The caching device allocator (registered with set_allocator(Device::Kind::kCuda) at load).
// Freed blocks stay cached per (device, stream, size class) and are reused by later requests
// on the same stream; a failing cudaMalloc releases the cache and retries once.
AllocatorStats memory_stats(int device);
void reset_peak_memory(int device);
void empty_cache();

// A page-locked host buffer of at least `nbytes`, reused across calls (one per thread and
// size class) for staging host<->device copies. Valid until the next call on this thread.
void* pinned_staging(size_t nbytes);

}  // namespace chorus::cuda
