#include "core/recipe/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>

namespace chorus::recipe {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof(buf), "%lld:%02lld", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  }
  return buf;
}

std::string format_progress(const ProgressState& st, int bar_width) {
  const double fraction =
      st.total > 0 ? std::min(1.0, static_cast<double>(st.step) / static_cast<double>(st.total))
                   : 0.0;
  const int filled = static_cast<int>(fraction * bar_width);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(bar_width - filled), '-');
  // ETA from the pace since timing started (steps before a resume took no time here).
  const int64_t done = st.step - st.first_step;
  const double eta =
      done > 0 ? st.elapsed_s / static_cast<double>(done) * static_cast<double>(st.total - st.step)
               : -1.0;
  char buf[256];
  std::snprintf(buf, sizeof(buf), "%s [%s] %lld/%lld %3d%% loss %.4f %.0f samples/s ETA %s",
                st.stage.c_str(), bar.c_str(), static_cast<long long>(st.step),
                static_cast<long long>(st.total), static_cast<int>(fraction * 100.0), st.loss,
                st.samples_per_s, format_duration(eta).c_str());
  return buf;
}

Progress::Progress(std::optional<bool> tty, int64_t plain_every)
    : tty_(tty.value_or(isatty(STDOUT_FILENO) != 0)),
      plain_every_(plain_every > 0 ? plain_every : 1) {}

void Progress::StartStage(const std::string& stage, int64_t total, int64_t first_step) {
  Finish();
  state_ =
      ProgressState{.stage = stage, .step = first_step, .total = total, .first_step = first_step};
  start_ = std::chrono::steady_clock::now();
  last_draw_ = start_ - std::chrono::seconds(10);
}

std::string Progress::Update(int64_t step, double loss, double samples_per_s) {
  const auto now = std::chrono::steady_clock::now();
  state_.step = step;
  state_.loss = loss;
  state_.samples_per_s = samples_per_s;
  state_.elapsed_s = std::chrono::duration<double>(now - start_).count();
  const bool last = step >= state_.total;
  if (tty_) {
    if (!last && now - last_draw_ < std::chrono::milliseconds(200)) return {};
    last_draw_ = now;
    const std::string line = format_progress(state_);
    std::cout << "\r" << line << "\x1b[K" << std::flush;
    drawn_ = true;
    return line;
  }
  if (!last && step % plain_every_ != 0) return {};
  const std::string line = format_progress(state_);
  std::cout << line << "\n" << std::flush;
  return line;
}

void Progress::Finish() {
  if (tty_ && drawn_) std::cout << "\n" << std::flush;
  drawn_ = false;
}

}  // namespace chorus::recipe
