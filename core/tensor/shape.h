// Shapes and strides: plain vectors of int64, in elements (not bytes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace chorus {

using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape& shape);
Shape contiguous_strides(const Shape& shape);
std::string shape_str(const Shape& shape);  // "[2, 3, 4]"

// Resolves a possibly negative dim against `ndim` ("-1" = last); throws on out of range.
int64_t wrap_dim(int64_t dim, int64_t ndim);

// NumPy broadcasting of two shapes; throws naming both shapes when they do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b);

}  // namespace chorus
