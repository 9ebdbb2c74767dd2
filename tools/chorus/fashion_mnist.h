// Reads the Fashion-MNIST IDX files shipped by Debian's dataset-fashion-mnist package
// (gzip-compressed, big-endian IDX headers). Used by `chorus demo`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace chorus::cli {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct FashionMnistSplit {
  int64_t count = 0;
  int64_t rows = 0, cols = 0;
  std::vector<uint8_t> pixels;  // count × rows × cols, row-major
  std::vector<uint8_t> labels;  // count, in [0, 10)
};

// Loads "train" or "t10k" from `dir`; every header field and size is checked, and an error
// names the file and what is wrong with it.
absl::StatusOr<FashionMnistSplit> load_fashion_mnist(const std::string& dir,
                                                     const std::string& split);

}  // namespace chorus::cli
