// Launchers of the copy and fill kernels (copy_kernels.cu).
#pragma once

#include "core/ops/cuda/launch.h"

namespace chorus::cuda {

// dst[i] = convert(src[i]) over `geo`; every dtype pair.
void launch_copy(const Geometry& geo, const Operand& dst, DType dst_dtype, const Operand& src,
                 DType src_dtype, StreamHandle stream);
// Every element of dst becomes the `itemsize`-byte pattern `bits`.
void launch_fill(const Geometry& geo, const Operand& dst, size_t itemsize, uint64_t bits,
                 StreamHandle stream);

}  // namespace chorus::cuda
