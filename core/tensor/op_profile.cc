#include "core/tensor/op_profile.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

namespace chorus::profile {
namespace {

Mode from_environment() {
  const char* v = std::getenv("CHORUS_OP_PROFILE");
  if (v == nullptr || *v == '\0' || std::strcmp(v, "0") == 0 || std::strcmp(v, "off") == 0) {
    return Mode::kOff;
  }
  if (std::strcmp(v, "sync") == 0) return Mode::kSync;
  return Mode::kHost;  // "host", "1" or anything else that asks for it
}

std::atomic<int> g_mode{-1};
std::atomic<DeviceSyncFn> g_sync{nullptr};
std::mutex g_mu;

thread_local int t_depth = 0;  // profiled scopes open on this thread

struct Totals {
  int64_t calls = 0;
  double seconds = 0;
  double top_level_seconds = 0;  // the part not nested in another profiled call
};
// Keyed by name text: the same kernel may be named from several translation units.
std::map<std::string, Totals>& table() {
  static auto* t = new std::map<std::string, Totals>();
  return *t;
}

}  // namespace

Mode mode() {
  int m = g_mode.load(std::memory_order_relaxed);
  if (m < 0) {
    m = static_cast<int>(from_environment());
    g_mode.store(m, std::memory_order_relaxed);
  }
  return static_cast<Mode>(m);
}

void set_mode(Mode m) { g_mode.store(static_cast<int>(m)); }
void set_device_sync(DeviceSyncFn fn) { g_sync.store(fn); }

void record(const char* name, double seconds, bool nested) {
  std::lock_guard<std::mutex> lock(g_mu);
  Totals& t = table()[name];
  ++t.calls;
  t.seconds += seconds;
  if (!nested) t.top_level_seconds += seconds;
}

void Scope::enter() { ++t_depth; }

void Scope::finish() {
  if (mode() == Mode::kSync && !device_.is_cpu()) {
    // Called from a destructor: a device error must not escape (std::terminate). It is sticky
    // and the next checked call reports it with its context.
    try {
      if (DeviceSyncFn sync = g_sync.load()) sync(device_);
    } catch (...) {
    }
  }
  --t_depth;
  record(name_, std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(),
         t_depth > 0);
}

std::vector<Entry> entries() {
  std::vector<Entry> out;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    for (const auto& [name, t] : table()) {
      out.push_back({name, t.calls, t.seconds, t.top_level_seconds});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Entry& a, const Entry& b) { return a.seconds > b.seconds; });
  return out;
}

void reset() {
  std::lock_guard<std::mutex> lock(g_mu);
  table().clear();
}

std::string report(double wall_seconds) {
  const std::vector<Entry> es = entries();
  double sum = 0;
  int64_t calls = 0;
  for (const Entry& e : es) sum += e.top_level_seconds, calls += e.calls;
  char line[256];
  std::string out;
  std::snprintf(line, sizeof line,
                "op profile (%s): %lld calls, %.3f s in calls of %.3f s wall (%.1f%%)\n",
                mode() == Mode::kSync ? "sync" : "host", static_cast<long long>(calls), sum,
                wall_seconds, wall_seconds > 0 ? 100.0 * sum / wall_seconds : 0.0);
  out += line;
  std::snprintf(line, sizeof line, "%-48s %10s %12s %10s %7s\n", "call", "count", "total ms",
                "mean us", "% wall");
  out += line;
  for (const Entry& e : es) {
    std::snprintf(line, sizeof line, "%-48.48s %10lld %12.3f %10.2f %7.2f\n", e.name.c_str(),
                  static_cast<long long>(e.calls), 1e3 * e.seconds,
                  e.calls > 0 ? 1e6 * e.seconds / static_cast<double>(e.calls) : 0.0,
                  wall_seconds > 0 ? 100.0 * e.seconds / wall_seconds : 0.0);
    out += line;
  }
  return out;
}

}  // namespace chorus::profile
