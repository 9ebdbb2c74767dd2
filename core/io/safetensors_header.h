// The safetensors container format, without any file or tensor machinery: parsing and
// validating a file image held in memory, and encoding a header.
//
// Layout: an 8-byte little-endian u64 N, then N bytes of JSON, then the data buffer.
//   {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"key": "value", ...}}
// Offsets are relative to the start of the data buffer (byte 8 + N of the file).
//
// This file depends only on nlohmann/json, Abseil and core/tensor/dtype.h so that the libFuzzer
// target can link it alone. Every malformed input is reported as a Status naming the source and
// the problem; nothing here reads outside the given buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/tensor/dtype.h"
#include "core/tensor/shape.h"

namespace chorus {

// Largest header accepted (the limit the reference implementation uses), so that a hostile
// length cannot make us allocate or parse gigabytes of JSON.
inline constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

// "F32", "BF16", "F8_E4M3", ... as written in the header.
const char* safetensors_dtype_string(DType dtype);
std::optional<DType> dtype_from_safetensors_string(std::string_view text);

struct SafetensorsTensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  Shape shape;
  uint64_t begin = 0;  // byte range [begin, end) relative to the data buffer
  uint64_t end = 0;

  uint64_t nbytes() const { return end - begin; }
  friend bool operator==(const SafetensorsTensorInfo&, const SafetensorsTensorInfo&) = default;
};

struct SafetensorsHeader {
  std::vector<SafetensorsTensorInfo> tensors;  // sorted by (begin, end, name): data order
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;  // absolute file offset of the data buffer (8 + N)
  uint64_t data_size = 0;   // bytes from data_start to the end of the file
};

// Parses and validates a whole safetensors file image of `size` bytes. On success every
// tensor's [data_start + begin, data_start + end) lies inside the image, ranges do not overlap,
// and each byte count equals numel * itemsize. `source` (usually the path) prefixes every error.
// Codes: DataLoss for a truncated file (too short for its own header or data), InvalidArgument
// for everything else.
absl::StatusOr<SafetensorsHeader> parse_safetensors(const void* data, size_t size,
                                                    std::string_view source);

// Encodes the 8-byte length prefix and the JSON header, padded with spaces so that the data
// buffer starts at a multiple of 8. `tensors` must carry their final offsets. Fails with
// InvalidArgument when a name or metadata string is not valid UTF-8 or a name is reserved.
absl::StatusOr<std::string> encode_safetensors_header(
    const std::vector<SafetensorsTensorInfo>& tensors,
    const std::map<std::string, std::string>& metadata);

}  // namespace chorus
