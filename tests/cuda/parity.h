// Backend parity harness (in the spirit of ggml's test-backend-ops): runs an op on the CPU and
// on cuda:0 with the same inputs, and compares outputs and input gradients by normalised mean
// squared error, NMSE = Σ(cpu − gpu)² / Σ cpu², against a threshold per dtype. Non-finite
// values must appear at the same positions with the same class (NaN, +inf, -inf).
//
// Every comparison is also tallied per (op, dtype); when CHORUS_PARITY_SUMMARY names a file,
// the tally is written there as JSON at exit (docs/gpu-parity.md is made from it).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "core/tensor/tensor.h"

namespace chorus::parity {

bool have_gpu();
#define CHORUS_REQUIRE_GPU() \
  if (!::chorus::parity::have_gpu()) GTEST_SKIP() << "no CUDA device visible"

inline Device gpu() { return Device::cuda(0); }

// Seeded uniform values in [lo, hi) as `dtype`, on the host.
Tensor rand(const Shape& shape, DType dtype, uint64_t seed, double lo = -1.0, double hi = 1.0);
// Seeded integers in [lo, hi) as i64, on the host.
Tensor randint(const Shape& shape, int64_t lo, int64_t hi, uint64_t seed);
// A detached copy on `device` (a fresh leaf).
Tensor on(const Tensor& t, Device device);

// NMSE threshold for values computed in `dtype` (grad: looser, several ops deep).
double threshold(DType dtype, bool grad = false);

// Compares a GPU result with the CPU reference; records the outcome under (op, dtype).
// `limit` > 0 replaces the dtype's threshold (for kernels whose arithmetic is coarser than their
// output dtype, e.g. FP8 tensor-core products written as f32).
::testing::AssertionResult Match(const std::string& op, DType dtype, const Tensor& cpu,
                                 const Tensor& gpu_result, bool grad = false, double limit = 0);
// Exact equality (indices, masks, integer results).
::testing::AssertionResult Same(const std::string& op, DType dtype, const Tensor& cpu,
                                const Tensor& gpu_result);

using OpFn = std::function<Tensor(const std::vector<Tensor>&)>;

// Runs `fn` on `inputs` (host tensors) and on their GPU copies, compares the output, then
// backpropagates the same random output gradient on both and compares the gradient of every
// floating input marked in `grad_inputs` (empty: all floating inputs).
void check_op(const std::string& op, DType dtype, const std::vector<Tensor>& inputs, const OpFn& fn,
              std::vector<bool> grad_inputs = {});

// Shapes every elementwise-style test runs on: scalars, empty tensors, odd sizes, a large one.
const std::vector<Shape>& shapes();

std::string label(DType dtype, const Shape& shape);

}  // namespace chorus::parity
