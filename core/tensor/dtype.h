// Element types a tensor can hold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace chorus {

enum class DType : uint8_t {
  kF32,
  kF64,
  kBF16,
  kF16,
  kF8E4M3,
  kF8E5M2,
  kI8,
  kU8,
  kI32,
  kI64,
  kBool,
};

inline constexpr DType kAllDTypes[] = {DType::kF32,    DType::kF64,    DType::kBF16, DType::kF16,
                                       DType::kF8E4M3, DType::kF8E5M2, DType::kI8,   DType::kU8,
                                       DType::kI32,    DType::kI64,    DType::kBool};

// Bytes one element occupies.
size_t dtype_size(DType dtype);

// Short lower-case name: "f32", "bf16", "f8e4m3", "i64", "bool", ...
const char* dtype_name(DType dtype);

// Parses a name produced by dtype_name().
std::optional<DType> dtype_from_name(std::string_view name);

bool is_floating(DType dtype);  // f32, f64, bf16, f16, fp8
bool is_integral(DType dtype);  // i8, u8, i32, i64 (bool excluded)

// The type arithmetic kernels compute in: f64 for f64, f32 for every other floating type.
DType compute_dtype(DType dtype);

}  // namespace chorus
