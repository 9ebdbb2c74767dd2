// A small persistent thread pool for CPU kernels.
//
// parallel_for splits [begin, end) into contiguous chunks of at least `grain` iterations and
// runs them on the pool's workers plus the calling thread. Calls made from inside a worker run
// serially (no nested parallelism), so kernels can call each other freely. The number of
// threads defaults to the hardware concurrency and can be set with CHORUS_NUM_THREADS or
// set_num_threads(). GEMMs go to OpenBLAS, which has its own threads.
#pragma once

#include <cstdint>
#include <functional>

namespace chorus {

int num_threads();
void set_num_threads(int n);

void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& body);

// Default grain for cheap per-element work: below this many elements threads cost more
// than they save.
inline constexpr int64_t kElementwiseGrain = 32768;

}  // namespace chorus
