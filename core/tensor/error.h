// Errors inside the engine.
//
// Two kinds of failure exist in Chorus:
//  * Bad input from the outside world (files, recipes, requests, plugins) is reported with
//    absl::Status / absl::StatusOr at the API boundary that receives it.
//  * Misuse of the tensor API (shape mismatch, wrong dtype, out-of-range dim) is a programming
//    error in the caller. Tensor code composes too deeply for StatusOr at every call, so these
//    throw chorus::Error with a message naming the op and the shapes involved. Boundaries that
//    run user-provided graphs (the trainer, the plugin host) catch it and turn it into a Status.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace chorus {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
// Joins anything streamable (numbers, strings, string_views) into one string.
template <class... Args>
std::string concat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}
[[noreturn]] void ThrowCheckFailure(const char* file, int line, const char* condition,
                                    const std::string& message);
}  // namespace detail

}  // namespace chorus

// CHORUS_CHECK(cond, parts...) throws chorus::Error("<message> [condition at file:line]") when
// cond is false. The message parts are joined with operator<< and evaluated only on failure.
#define CHORUS_CHECK(cond, ...)                                                   \
  do {                                                                            \
    if (!(cond)) [[unlikely]] {                                                   \
      ::chorus::detail::ThrowCheckFailure(__FILE__, __LINE__, #cond,              \
                                          ::chorus::detail::concat(__VA_ARGS__)); \
    }                                                                             \
  } while (0)
