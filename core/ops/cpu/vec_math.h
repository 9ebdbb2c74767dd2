// Vectorised row primitives for softmax-style kernels (attention).
//
// The engine is built for baseline x86-64, where the compiler cannot vectorise exp() at all.
// The float versions therefore carry hand-written AVX2+FMA code, chosen once at run time when
// the CPU has it, with a scalar fallback; the double versions (gradient checks) are scalar.
// exp() here is a Cephes-style polynomial accurate to about 2 ulp; exp(-inf) is exactly 0
// and NaN propagates.
#pragma once

#include <cstdint>

namespace chorus::cpu::vec {

// max_i x[i]; -inf when n == 0.
float max(const float* x, int64_t n);
double max(const double* x, int64_t n);

// x[i] = exp(x[i] - shift) in place; returns the sum of the new values.
float exp_shift_sum(float* x, int64_t n, float shift);
double exp_shift_sum(double* x, int64_t n, double shift);

// x[i] *= s.
void scale(float* x, int64_t n, float s);
void scale(double* x, int64_t n, double s);

// x[i] += y[i].
void add(float* x, const float* y, int64_t n);
void add(double* x, const double* y, int64_t n);

// x[i] += s * y[i].
void axpy(float* x, const float* y, int64_t n, float s);
void axpy(double* x, const double* y, int64_t n, double s);

// Σ x[i]·y[i] (accumulated in float lanes for float).
float dot(const float* x, const float* y, int64_t n);
double dot(const double* x, const double* y, int64_t n);

// The softmax backward of one row: dp[i] = p[i] · (dp[i] − delta).
void softmax_grad(float* dp, const float* p, int64_t n, float delta);
void softmax_grad(double* dp, const double* p, int64_t n, double delta);

}  // namespace chorus::cpu::vec
