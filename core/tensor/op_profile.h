// A wall-clock profile of kernel calls and host<->device copies, for finding where a training
// step's time goes on a GPU without Nsight Systems (the lent H200 has none).
//
// Off unless the environment asks for it, and then read once at first use:
//   CHORUS_OP_PROFILE=host   time each kernel call on the host: what the dispatch, the launch and
//                            any wait inside the call cost. The sum against the step time shows
//                            whether a step is bound by the host (calls ~ step) or waits on the
//                            device (calls << step, the rest spent in copies to the host).
//   CHORUS_OP_PROFILE=sync   also wait for the device after every call, so each call's time is
//                            its device time plus its host time (slows the run; attributes
//                            device time to kernels, like a serialized trace).
// When off, a kernel call pays one load of a cached flag.
//
// The profile is process-wide and thread-safe; `chorus train` writes it to the run directory as
// op_profile.txt and summarizes it in log.txt.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor/device.h"

namespace chorus::profile {

enum class Mode { kOff, kHost, kSync };

// The mode CHORUS_OP_PROFILE asks for (read once).
Mode mode();
inline bool enabled() { return mode() != Mode::kOff; }
// For tests: overrides the environment.
void set_mode(Mode m);

// How the sync mode waits for a device; installed by the CUDA backend.
using DeviceSyncFn = void (*)(Device device);
void set_device_sync(DeviceSyncFn fn);

struct Entry {
  std::string name;
  int64_t calls = 0;
  double seconds = 0;
  double top_level_seconds = 0;  // not inside another profiled call
};

// Entries sorted by total time, longest first.
std::vector<Entry> entries();
// Clears the profile (e.g. between stages).
void reset();
// A fixed-width table of entries() with each entry's share of `wall_seconds` (the time the
// profiled region took), preceded by a line comparing the sum of the calls to it.
std::string report(double wall_seconds);

// Adds one call of `name` taking `seconds`; `nested` when it ran inside another profiled call
// (a copy inside a kernel): listed, but not added again to the total of the calls.
void record(const char* name, double seconds, bool nested = false);

// Times a scope as one call of `name` when profiling is on; in sync mode it waits for `device`
// (when not the CPU) at the end of the scope, so the work the call queued is charged to it.
class Scope {
 public:
  Scope(const char* name, Device device)
      : name_(enabled() ? name : nullptr), device_(device), start_(start_time()) {
    if (name_ != nullptr) enter();
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
  ~Scope() {
    if (name_ != nullptr) finish();
  }

 private:
  std::chrono::steady_clock::time_point start_time() const {
    return name_ != nullptr ? std::chrono::steady_clock::now()
                            : std::chrono::steady_clock::time_point{};
  }
  void enter();
  void finish();

  const char* name_;
  Device device_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace chorus::profile
