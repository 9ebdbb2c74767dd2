// Tensor::copy_ and Tensor::fill_: raw elementwise copies with dtype conversion (CPU).
// Cross-device copies are delegated to a hook the CUDA backend installs.
#include <cstring>

#include "core/tensor/device_copy.h"
#include "core/tensor/dispatch.h"
#include "core/tensor/op_profile.h"
#include "core/tensor/strided_loop.h"
#include "core/tensor/tensor.h"

namespace chorus {
namespace {

DeviceCopyFn g_device_copy = nullptr;
DeviceFillFn g_device_fill = nullptr;

template <class Src, class Dst, class Convert>
void copy_rows(const Tensor& dst, const Tensor& src, Convert convert) {
  auto* d = static_cast<Dst*>(dst.storage()->data());
  const auto* s = static_cast<const Src*>(src.storage()->data());
  for_each_row<2>(dst.shape(), {&dst.strides(), &src.strides()}, {dst.offset(), src.offset()},
                  [&](const int64_t* off, int64_t n, const int64_t* st) {
                    Dst* dp = d + off[0];
                    const Src* sp = s + off[1];
                    for (int64_t i = 0; i < n; ++i) dp[i * st[0]] = convert(sp[i * st[1]]);
                  });
}

}  // namespace

void set_device_copy(DeviceCopyFn fn) { g_device_copy = fn; }
void set_device_fill(DeviceFillFn fn) { g_device_fill = fn; }

void Tensor::copy_(const Tensor& src) const {
  CHORUS_CHECK(shape() == src.shape(), "copy_: destination ", shape_str(shape()), " and source ",
               shape_str(src.shape()), " differ");
  if (!device().is_cpu() || !src.device().is_cpu()) {
    CHORUS_CHECK(g_device_copy != nullptr, "copy between ", src.device().ToString(), " and ",
                 device().ToString(), " needs the CUDA backend");
    const bool to_host = device().is_cpu(), from_host = src.device().is_cpu();
    const profile::Scope scope(to_host     ? "copy device->host"
                               : from_host ? "copy host->device"
                                           : "copy device->device",
                               to_host ? src.device() : device());
    g_device_copy(*this, src);
    return;
  }
  if (numel() == 0) return;
  // Same dtype, both contiguous: one memcpy.
  if (dtype() == src.dtype() && is_contiguous() && src.is_contiguous()) {
    std::memmove(raw_data(), src.raw_data(), nbytes());
    return;
  }
  if (dtype() == src.dtype()) {
    switch (itemsize()) {
      case 1:
        return copy_rows<uint8_t, uint8_t>(*this, src, [](uint8_t v) { return v; });
      case 2:
        return copy_rows<uint16_t, uint16_t>(*this, src, [](uint16_t v) { return v; });
      case 4:
        return copy_rows<uint32_t, uint32_t>(*this, src, [](uint32_t v) { return v; });
      case 8:
        return copy_rows<uint64_t, uint64_t>(*this, src, [](uint64_t v) { return v; });
    }
  }
  // Fast conversions on the hot paths of mixed precision.
  if (src.dtype() == DType::kF32 && dtype() == DType::kBF16) {
    return copy_rows<float, uint16_t>(*this, src, [](float v) { return float_to_bf16(v); });
  }
  if (src.dtype() == DType::kBF16 && dtype() == DType::kF32) {
    return copy_rows<uint16_t, float>(*this, src, [](uint16_t v) { return bf16_to_float(v); });
  }
  if (src.dtype() == DType::kF32 && dtype() == DType::kF64) {
    return copy_rows<float, double>(*this, src, [](float v) { return double{v}; });
  }
  if (src.dtype() == DType::kF64 && dtype() == DType::kF32) {
    return copy_rows<double, float>(*this, src, [](double v) { return static_cast<float>(v); });
  }
  // Generic path through double, element by element.
  const DType sd = src.dtype(), dd = dtype();
  char* d = static_cast<char*>(storage()->data());
  const char* s = static_cast<const char*>(src.storage()->data());
  for_each_row<2>(shape(), {&strides(), &src.strides()}, {offset(), src.offset()},
                  [&](const int64_t* off, int64_t n, const int64_t* st) {
                    for (int64_t i = 0; i < n; ++i) {
                      store_from_double(d, off[0] + i * st[0], dd,
                                        load_as_double(s, off[1] + i * st[1], sd));
                    }
                  });
}

void Tensor::fill_(double value) const {
  if (!device().is_cpu()) {
    if (g_device_fill != nullptr) return g_device_fill(*this, value);
    // Fill a host tensor of the same shape and copy it over.
    Tensor host = Tensor::full(shape(), value, dtype());
    copy_(host);
    return;
  }
  Tensor one = Tensor::empty({1}, dtype());
  store_from_double(one.raw_data(), 0, dtype(), value);
  const size_t isz = itemsize();
  if (is_contiguous()) {
    char* p = static_cast<char*>(raw_data());
    const int64_t n = numel();
    if (value == 0.0) {  // all-zero bits are 0 in every dtype
      std::memset(p, 0, nbytes());
      return;
    }
    parallel_for(0, n, kElementwiseGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) std::memcpy(p + i * isz, one.raw_data(), isz);
    });
    return;
  }
  copy_(one.as_strided(shape(), Shape(shape().size(), 0), 0));
}

}  // namespace chorus
