// Host-to-device copies that return without waiting for the device.
//
// WHY: a training step uploads small host tensors in the middle of queued device work (index
// tables for row selection, labels, scalars). A synchronous copy drains the whole stream first,
// so the GPU sits idle while the host queues the next kernels; a step then costs host time plus
// device time instead of the larger of the two. Here the bytes are first copied into a block of
// pinned host memory, the device copy is queued behind the work already on the stream, and an
// event recorded after it tells when the block may be reused. The caller's buffer is free as
// soon as the call returns, exactly as with a synchronous copy.
//
// Blocks are recycled by size class; the pool holds at most kMaxPooledBytes of pinned memory
// (beyond that the call waits for the stream and recycles everything). Only built with
// CHORUS_CUDA=ON.
#pragma once

#include <cstddef>

#include "core/ops/cuda/runtime.h"

namespace chorus::cuda {

inline constexpr size_t kMaxUploadBytes = size_t{64} << 20;  // larger copies use the staging path

// Queues a copy of `nbytes` from host memory `src` to device memory `dst` on `stream` of
// `device` (the current device must be `device`). Returns once `src` may be reused. The copy is
// ordered on `stream` only: work on another stream that reads `dst` must wait for it (an event),
// as for any kernel.
void upload_async(void* dst, const void* src, size_t nbytes, int device, StreamHandle stream);

// Blocks in the pool and blocks still in flight (tests and diagnostics).
struct UploadPoolStats {
  size_t pooled_bytes = 0;
  size_t in_flight = 0;
};
UploadPoolStats upload_pool_stats();

}  // namespace chorus::cuda
