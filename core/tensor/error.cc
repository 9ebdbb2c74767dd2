#include "core/tensor/error.h"

#include <cstring>

namespace chorus::detail {

void ThrowCheckFailure(const char* file, int line, const char* condition,
                       const std::string& message) {
  const char* base = std::strrchr(file, '/');
  base = base ? base + 1 : file;
  throw Error(concat(message.empty() ? std::string("check failed") : message, " [", condition,
                     " at ", base, ":", line, "]"));
}

}  // namespace chorus::detail
