#include "core/ops/cpu/sort_kernels.h"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/ops/cpu/typed_dispatch.h"
#include "core/tensor/parallel.h"

namespace chorus::cpu {
namespace {

template <class T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::isnan(v);
  } else {
    return false;
  }
}

template <class T>
using Entry = std::pair<T, int64_t>;  // (value, position in the row)

// "a comes before b" in ascending (or descending) order, NaN being the largest value and the
// position breaking ties. A strict total order, so std::sort's result is unique.
template <class T, bool Descending>
struct Before {
  bool operator()(const Entry<T>& a, const Entry<T>& b) const {
    const bool an = is_nan(a.first), bn = is_nan(b.first);
    if (an || bn) {
      if (an && bn) return a.second < b.second;
      return Descending ? an : bn;
    }
    if (a.first != b.first) return Descending ? a.first > b.first : a.first < b.first;
    return a.second < b.second;
  }
};

struct ByPosition {
  template <class E>
  bool operator()(const E& a, const E& b) const {
    return a.second < b.second;
  }
};

// Runs body(row, buffer) for every row with the row's entries loaded into a per-thread
// buffer, threads splitting the rows.
template <class T, class Body>
void for_each_sorted_row(const Tensor& x, Body&& body) {
  const int64_t rows = x.shape()[0], n = x.shape()[1];
  const T* xp = static_cast<const T*>(x.raw_data());
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, 8 * n));
  parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
    std::vector<Entry<T>> buf(static_cast<size_t>(n));
    for (int64_t r = r0; r < r1; ++r) {
      const T* row = xp + r * n;
      for (int64_t j = 0; j < n; ++j) buf[j] = {row[j], j};
      body(r, buf);
    }
  });
}

template <class T>
void write_row(const Tensor& values, const Tensor& indices, int64_t r,
               const std::vector<Entry<T>>& buf, int64_t count) {
  T* v = static_cast<T*>(values.raw_data()) + r * count;
  int64_t* i = static_cast<int64_t*>(indices.raw_data()) + r * count;
  for (int64_t j = 0; j < count; ++j) v[j] = buf[j].first, i[j] = buf[j].second;
}

template <class T, bool Descending>
void top(std::vector<Entry<T>>& buf, int64_t k, bool sorted) {
  const Before<T, Descending> before;
  const auto first = buf.begin(), kth = buf.begin() + k, last = buf.end();
  if (sorted && k * 4 < static_cast<int64_t>(buf.size())) {
    std::partial_sort(first, kth, last, before);  // O(n log k): best for small k
    return;
  }
  std::nth_element(first, kth, last, before);  // the k first now precede all the others
  if (sorted) {
    std::sort(first, kth, before);
  } else {
    std::sort(first, kth, ByPosition());
  }
}

}  // namespace

void sort_rows(const Tensor& values, const Tensor& indices, const Tensor& x, bool descending) {
  CHORUS_DISPATCH_REAL(x.dtype(), T, [&] {
    for_each_sorted_row<T>(x, [&](int64_t r, std::vector<Entry<T>>& buf) {
      if (descending) {
        std::sort(buf.begin(), buf.end(), Before<T, true>());
      } else {
        std::sort(buf.begin(), buf.end(), Before<T, false>());
      }
      write_row(values, indices, r, buf, static_cast<int64_t>(buf.size()));
    });
  });
}

void topk_rows(const Tensor& values, const Tensor& indices, const Tensor& x, int64_t k,
               bool largest, bool sorted) {
  CHORUS_DISPATCH_REAL(x.dtype(), T, [&] {
    for_each_sorted_row<T>(x, [&](int64_t r, std::vector<Entry<T>>& buf) {
      if (largest) {
        top<T, true>(buf, k, sorted);
      } else {
        top<T, false>(buf, k, sorted);
      }
      write_row(values, indices, r, buf, k);
    });
  });
}

}  // namespace chorus::cpu
