// Launchers of the reduction kernels (reduce_kernels.cu). Rows are contiguous [outer, inner]
// in f32 (f64 = false) or f64; each row reduces to one element of `out`.
#pragma once

#include "core/ops/cuda/launch.h"

namespace chorus::cuda {

enum RowReduce : int { kRowSum, kRowVar, kRowLogSumExp, kRowNorm };

// kRowVar divides by `param` (inner - correction, clamped at 0); kRowNorm uses p = `param`.
void launch_row_reduce(int kind, bool f64, const void* rows, void* out, int64_t outer,
                       int64_t inner, double param, StreamHandle stream);
// How many pieces to cut each row into so that few long rows still fill the GPU (1: no split).
int row_reduce_chunks(int64_t outer, int64_t inner);
// launch_row_reduce with every row cut into `chunks` pieces: `partial` is device scratch of
// outer * chunks * 16 bytes. Same results up to the order of additions.
void launch_row_reduce_split(int kind, bool f64, const void* rows, void* out, int64_t outer,
                             int64_t inner, double param, int chunks, void* partial,
                             StreamHandle stream);
// Per row, max or min (NaN wins) into values (may be null) and the first index of it into
// indices (i64, may be null).
void launch_row_extreme(bool is_max, bool f64, const void* rows, void* values, int64_t* indices,
                        int64_t outer, int64_t inner, StreamHandle stream);
// gx[a, idx[a, b], b] = g[a, b] (gx zero-filled [pre, n, post]).
void launch_scatter_along_dim(bool f64, void* gx, const void* g, const int64_t* idx, int64_t pre,
                              int64_t n, int64_t post, StreamHandle stream);
// Σ|x|^p (p = inf: max |x|) over a contiguous buffer of f32/f64/bf16/f16, as double, into
// *result (device memory, one double), or added to it (max for p = inf) when `accumulate`.
// `partial`: device scratch of kAbsPowPartials doubles.
inline constexpr int kAbsPowPartials = 1024;
void launch_abs_pow_sum(DType dtype, const void* x, int64_t n, double p, double* partial,
                        double* result, bool accumulate, StreamHandle stream);
// x *= factor in place (f32/f64/bf16/f16, contiguous).
void launch_scale(DType dtype, void* x, int64_t n, double factor, StreamHandle stream);
// Inclusive cumulative sum over n of contiguous [outer, n, inner] (f32, f64 accumulate in
// double; i64 in i64).
void launch_cumsum(DType dtype, const void* x, void* out, int64_t outer, int64_t n, int64_t inner,
                   bool reverse, StreamHandle stream);

}  // namespace chorus::cuda
