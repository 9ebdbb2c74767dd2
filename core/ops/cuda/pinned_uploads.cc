#include "core/ops/cuda/pinned_uploads.h"

#include <cuda_runtime.h>

#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include "core/ops/cuda/check.h"

namespace chorus::cuda {
namespace {

constexpr size_t kMaxPooledBytes = size_t{256} << 20;
constexpr size_t kMinBlock = size_t{4} << 10;

struct InFlight {
  char* block;
  size_t size;
  cudaEvent_t done;
  int device;  // an event belongs to the device it was created on
};

struct Pool {
  std::mutex mu;
  std::multimap<size_t, char*> free_blocks;  // size -> block
  std::deque<InFlight> in_flight;            // in queue order (per stream, events complete
                                             // in order; across streams mostly so)
  std::map<int, std::vector<cudaEvent_t>> spare_events;  // per device
  size_t pooled_bytes = 0;                               // free + in flight

  // Moves the blocks whose copies have finished back to the free lists.
  void reclaim(bool wait) {
    for (auto it = in_flight.begin(); it != in_flight.end();) {
      const cudaError_t st = wait ? cudaEventSynchronize(it->done) : cudaEventQuery(it->done);
      if (st == cudaErrorNotReady) {
        ++it;
        continue;
      }
      CHORUS_CUDA_CHECK(st, "waiting for an upload from pinned memory");
      free_blocks.emplace(it->size, it->block);
      spare_events[it->device].push_back(it->done);
      it = in_flight.erase(it);
    }
  }

  char* take(size_t nbytes, size_t* size) {
    auto it = free_blocks.lower_bound(nbytes);
    if (it != free_blocks.end() && it->first <= 4 * nbytes) {
      *size = it->first;
      char* b = it->second;
      free_blocks.erase(it);
      return b;
    }
    size_t s = kMinBlock;
    while (s < nbytes) s <<= 1;
    if (pooled_bytes + s > kMaxPooledBytes) {
      // Over budget: wait for every copy, give the free blocks back, start again.
      reclaim(/*wait=*/true);
      for (auto& [bytes, block] : free_blocks) {
        cudaFreeHost(block);
        pooled_bytes -= bytes;
      }
      free_blocks.clear();
    }
    void* p = nullptr;
    CHORUS_CUDA_CHECK(cudaHostAlloc(&p, s, cudaHostAllocDefault), "pinned upload block of ", s,
                      " bytes");
    pooled_bytes += s;
    *size = s;
    return static_cast<char*>(p);
  }

  // An event of `device`, which must be the current device.
  cudaEvent_t event(int device) {
    std::vector<cudaEvent_t>& spare = spare_events[device];
    if (!spare.empty()) {
      cudaEvent_t e = spare.back();
      spare.pop_back();
      return e;
    }
    cudaEvent_t e = nullptr;
    CHORUS_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "upload event");
    return e;
  }
};

// Leaked on purpose: uploads may still be reclaimed from static destructors of other objects.
Pool& pool() {
  static auto* p = new Pool();
  return *p;
}

}  // namespace

void upload_async(void* dst, const void* src, size_t nbytes, int device, StreamHandle stream) {
  if (nbytes == 0) return;
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mu);
  p.reclaim(/*wait=*/false);
  size_t size = 0;
  char* block = p.take(nbytes, &size);
  std::memcpy(block, src, nbytes);
  cudaEvent_t done = p.event(device);
  const cudaError_t st = cudaMemcpyAsync(dst, block, nbytes, cudaMemcpyHostToDevice, stream);
  if (st != cudaSuccess) {
    p.free_blocks.emplace(size, block);
    p.spare_events[device].push_back(done);
    CHORUS_CUDA_CHECK(st, nbytes, " bytes to cuda:", device);
  }
  const cudaError_t recorded = cudaEventRecord(done, stream);
  if (recorded != cudaSuccess) {
    // The copy is queued but cannot be tracked: wait for it, then the block is free again.
    cudaStreamSynchronize(stream);
    p.free_blocks.emplace(size, block);
    cudaEventDestroy(done);
    CHORUS_CUDA_CHECK(recorded, "upload event on cuda:", device);
  }
  p.in_flight.push_back({block, size, done, device});
}

UploadPoolStats upload_pool_stats() {
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mu);
  p.reclaim(/*wait=*/false);
  return {p.pooled_bytes, p.in_flight.size()};
}

}  // namespace chorus::cuda
