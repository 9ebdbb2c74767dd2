// Loader statistics, cumulative since the Loader was created; the trainer logs to_json() into
// its metrics. Counts cover delivered batches only (not what sits prefetched in the queue).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "nlohmann/json.hpp"

namespace chorus::data {

struct LoaderStats {
  int64_t batches = 0;  // delivered
  int64_t samples = 0;  // delivered (good) samples
  int64_t bad_samples = 0;
  std::map<std::string, int64_t> bad_by_reason;  // bad_reason_name() -> count
  double wait_seconds = 0;                       // time the consumer spent blocked in next()
  double decode_seconds = 0;   // worker time spent decoding + collating delivered batches
  double elapsed_seconds = 0;  // since the loader started
  int64_t max_in_flight = 0;   // most batches claimed by workers but not yet delivered

  double samples_per_second() const { return elapsed_seconds > 0 ? samples / elapsed_seconds : 0; }
  // Fraction of the elapsed time the consumer was starved (0 = never waited).
  double wait_fraction() const { return elapsed_seconds > 0 ? wait_seconds / elapsed_seconds : 0; }

  nlohmann::json to_json() const {
    return {{"batches", batches},
            {"samples", samples},
            {"bad_samples", bad_samples},
            {"bad_by_reason", bad_by_reason},
            {"wait_seconds", wait_seconds},
            {"decode_seconds", decode_seconds},
            {"elapsed_seconds", elapsed_seconds},
            {"samples_per_second", samples_per_second()},
            {"wait_fraction", wait_fraction()},
            {"max_in_flight", max_in_flight}};
  }
};

}  // namespace chorus::data
