// Progress: the one status line a training run shows on the terminal.
//
//   instance  [#########-----------]  450/1000  45%  loss 2.314  812 samples/s  ETA 0:41
//
// On a TTY the line is redrawn in place (carriage return) at most every `min_interval`
// seconds; when stdout is not a TTY (CI logs, `| tee`) it prints a plain line every
// `plain_every` steps instead, so logs stay readable. Timing and formatting are separated from
// the clock so the format can be tested.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace chorus::recipe {

struct ProgressState {
  std::string stage;
  int64_t step = 0;   // steps done in this stage
  int64_t total = 0;  // steps in this stage
  double loss = 0.0;
  double samples_per_s = 0.0;
  double elapsed_s = 0.0;  // since the stage (or the resumed part of it) started
  int64_t first_step = 0;  // step the timing started at (resume), for the ETA
};

// "instance [####----] 450/1000 45% loss 2.314 812 samples/s ETA 0:41" (width = bar cells).
std::string format_progress(const ProgressState& state, int bar_width = 20);
// Seconds as "m:ss" or "h:mm:ss"; "--:--" when unknown (negative or not finite).
std::string format_duration(double seconds);

class Progress {
 public:
  // tty: std::nullopt = detect with isatty(stdout).
  explicit Progress(std::optional<bool> tty = std::nullopt, int64_t plain_every = 50);

  void StartStage(const std::string& stage, int64_t total, int64_t first_step = 0);
  // Returns the line when one was printed (for the log file), empty otherwise.
  std::string Update(int64_t step, double loss, double samples_per_s);
  // Ends the in-place line with a newline (TTY) so later output starts on a fresh line.
  void Finish();

 private:
  bool tty_;
  int64_t plain_every_;
  ProgressState state_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  bool drawn_ = false;
};

}  // namespace chorus::recipe
