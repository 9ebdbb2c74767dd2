// Helpers of the vendor-kernel tests: host data rounded to a dtype, device copies of it, and the
// normalised error ‖out − ref‖ / ‖ref‖ that every comparison uses (thresholds per dtype).
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "core/tensor/dtype.h"
#include "core/tensor/float_formats.h"

namespace chorus::cuda::test {

inline size_t elem_size(DType t) {
  return t == DType::kF32 ? 4 : (t == DType::kBF16 || t == DType::kF16) ? 2 : 1;
}

inline float round_to(DType t, float v) {
  switch (t) {
    case DType::kBF16:
      return bf16_to_float(float_to_bf16(v));
    case DType::kF16:
      return f16_to_float(float_to_f16(v));
    case DType::kF8E4M3:
      return fp8e4m3_to_float(float_to_fp8e4m3(v));
    case DType::kF8E5M2:
      return fp8e5m2_to_float(float_to_fp8e5m2(v));
    default:
      return v;
  }
}

// Uniform(-a, a) values already rounded to `t`, so the double reference sees the same inputs.
inline std::vector<float> random_values(size_t n, DType t, uint64_t seed, float a = 1.f) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-a, a);
  std::vector<float> v(n);
  for (auto& x : v) x = round_to(t, u(rng));
  return v;
}

// A device buffer holding values in one dtype.
class DeviceArray {
 public:
  DeviceArray(size_t n, DType t) : n_(n), t_(t) {
    EXPECT_EQ(cudaMalloc(&ptr_, std::max<size_t>(1, n * elem_size(t))), cudaSuccess);
    // Poison: NaN bytes for floats, so unwritten outputs fail the comparison.
    cudaMemset(ptr_, 0xff, std::max<size_t>(1, n * elem_size(t)));
  }
  DeviceArray(const std::vector<float>& host, DType t) : DeviceArray(host.size(), t) {
    upload(host);
  }
  ~DeviceArray() { cudaFree(ptr_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  void* get() const { return ptr_; }
  template <class T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }

  void upload(const std::vector<float>& host) {
    std::vector<uint8_t> bytes(host.size() * elem_size(t_));
    for (size_t i = 0; i < host.size(); ++i) {
      const float v = host[i];
      switch (t_) {
        case DType::kF32:
          std::memcpy(&bytes[i * 4], &v, 4);
          break;
        case DType::kBF16: {
          const uint16_t b = float_to_bf16(v);
          std::memcpy(&bytes[i * 2], &b, 2);
          break;
        }
        case DType::kF16: {
          const uint16_t b = float_to_f16(v);
          std::memcpy(&bytes[i * 2], &b, 2);
          break;
        }
        case DType::kF8E4M3:
          bytes[i] = float_to_fp8e4m3(v);
          break;
        case DType::kF8E5M2:
          bytes[i] = float_to_fp8e5m2(v);
          break;
        default:
          ADD_FAILURE() << "unsupported dtype";
      }
    }
    ASSERT_EQ(cudaMemcpy(ptr_, bytes.data(), bytes.size(), cudaMemcpyHostToDevice), cudaSuccess);
  }

  std::vector<float> download() const {
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    std::vector<uint8_t> bytes(n_ * elem_size(t_));
    EXPECT_EQ(cudaMemcpy(bytes.data(), ptr_, bytes.size(), cudaMemcpyDeviceToHost), cudaSuccess);
    std::vector<float> out(n_);
    for (size_t i = 0; i < n_; ++i) {
      switch (t_) {
        case DType::kF32:
          std::memcpy(&out[i], &bytes[i * 4], 4);
          break;
        case DType::kBF16: {
          uint16_t b;
          std::memcpy(&b, &bytes[i * 2], 2);
          out[i] = bf16_to_float(b);
          break;
        }
        case DType::kF16: {
          uint16_t b;
          std::memcpy(&b, &bytes[i * 2], 2);
          out[i] = f16_to_float(b);
          break;
        }
        default:
          out[i] = NAN;
      }
    }
    return out;
  }

 private:
  void* ptr_ = nullptr;
  size_t n_;
  DType t_;
};

// ‖out − ref‖ / ‖ref‖ over the listed indices (all when empty); NaN never passes.
inline double normalised_error(const std::vector<float>& out, const std::vector<double>& ref) {
  EXPECT_EQ(out.size(), ref.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size() && i < out.size(); ++i) {
    if (!std::isfinite(out[i])) return INFINITY;
    num += (out[i] - ref[i]) * (out[i] - ref[i]);
    den += ref[i] * ref[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

// Thresholds on normalised error per dtype of the output (METHOD.md's ranges).
inline double tolerance(DType t) {
  switch (t) {
    case DType::kF32:
      return 1e-5;
    case DType::kF16:
      return 3e-3;
    default:
      return 1.2e-2;  // bf16 outputs, fp8 inputs
  }
}

}  // namespace chorus::cuda::test
