// Row access for kernels whose big operands may be bf16 (the mixed-precision activation
// dtype). A bf16 row is widened into a per-thread f32 scratch row when read and rounded back
// when written, so the math runs in f32 on cache-resident data and no full-size f32 copy of
// the tensor is ever made; f32/f64 rows are used in place. Internal to core/ops/cpu.
//
// Pattern, inside a parallel_for body (one RowIn/RowOut per thread):
//   RowIn<T> in(x, n);  RowOut<T> out(y, n);
//   for (r ...) { T* dst = out.begin(r); kernel(in(r), dst, n); out.end(r); }
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include "core/tensor/tensor.h"

namespace chorus::cpu {

// Vectorised conversions with the rounding of float_formats.h (round half to even, NaN
// stays a quiet NaN).
void bf16_to_float_row(const uint16_t* src, float* dst, int64_t n);
void float_to_bf16_row(const float* src, uint16_t* dst, int64_t n);

// Calls f.template operator()<T>() with T = float for f32 and bf16 tensors, double for f64.
template <class F>
decltype(auto) dispatch_rows(DType dtype, F&& f) {
  switch (dtype) {
    case DType::kF32:
    case DType::kBF16:
      return f.template operator()<float>();
    case DType::kF64:
      return f.template operator()<double>();
    default:
      CHORUS_CHECK(false, "row kernel expects f32, f64 or bf16, got ", dtype_name(dtype));
  }
}

// Rows of n elements of a contiguous tensor (f32/f64 matching T, or bf16 with T = float).
template <class T>
class RowIn {
 public:
  RowIn(const Tensor& t, int64_t n) : n_(n) {
    if (t.dtype() == DType::kBF16) {
      bf16_ = static_cast<const uint16_t*>(t.raw_data());
      scratch_.resize(static_cast<size_t>(n));
    } else {
      direct_ = t.data<T>();
    }
  }
  // Row r as T; with bf16 storage the pointer stays valid until the next call.
  const T* operator()(int64_t r) {
    if (!bf16_) return direct_ + r * n_;
    if constexpr (std::is_same_v<T, float>) bf16_to_float_row(bf16_ + r * n_, scratch_.data(), n_);
    return scratch_.data();
  }

 private:
  int64_t n_;
  const T* direct_ = nullptr;
  const uint16_t* bf16_ = nullptr;
  std::vector<T> scratch_;
};

template <class T>
class RowOut {
 public:
  RowOut(const Tensor& t, int64_t n) : n_(n) {
    if (t.dtype() == DType::kBF16) {
      bf16_ = static_cast<uint16_t*>(t.raw_data());
      scratch_.resize(static_cast<size_t>(n));
    } else {
      direct_ = t.data<T>();
    }
  }
  // Where to write row r; end(r) stores it.
  T* begin(int64_t r) { return bf16_ ? scratch_.data() : direct_ + r * n_; }
  void end(int64_t r) {
    if constexpr (std::is_same_v<T, float>) {
      if (bf16_) float_to_bf16_row(scratch_.data(), bf16_ + r * n_, n_);
    }
  }

 private:
  int64_t n_;
  T* direct_ = nullptr;
  uint16_t* bf16_ = nullptr;
  std::vector<T> scratch_;
};

}  // namespace chorus::cpu
