// CUDA entries of the attention kernel slots (cpu::attention_forward / attention_backward).
//
// bf16/f16 with head dims that are multiples of 8 up to 128 run cuDNN's fused flash attention
// (sdpa.h); a key-padding mask goes there too when every batch entry pads a suffix of its keys
// and keeps at least one (it becomes per-batch key lengths, read on the host: one small copy
// and a wait). Everything else (f32, other head dims, scattered padding, rows that see no key,
// a shape cuDNN refuses) runs the exact warp-per-row kernels (attention_fallback.h); f64 runs
// the CPU kernels on host copies. Both CUDA paths write the same log-sum-exp (f32), so forward
// and backward may take different ones.
#include <cuda_runtime.h>

#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/ops/cpu/attention_kernels.h"
#include "core/ops/cuda/dnn/attention_fallback.h"
#include "core/ops/cuda/dnn/sdpa.h"
#include "core/ops/cuda/pinned_uploads.h"
#include "core/ops/cuda/runtime.h"
#include "core/ops/cuda/tensor_operands.h"
#include "core/ops/kernel_dispatch.h"
#include "core/tensor/op_profile.h"

namespace chorus::cuda {
namespace {

std::array<int64_t, 4> strides4(const Tensor& t) {
  return {t.stride(0), t.stride(1), t.stride(2), t.stride(3)};
}

dnn::AttentionRows rows(const Tensor& t) {
  return {t.raw_data(), t.stride(0), t.stride(1), t.stride(2)};
}

// Per-batch key lengths when the padding mask pads a non-empty suffix of every row's keys.
struct Padding {
  bool fused_ok = true;       // no mask, or a suffix mask with every length > 0
  std::vector<int32_t> lens;  // [seq_len_q (all Lq) ..., seq_len_kv ...] when a mask is given
};

Padding read_padding(const uint8_t* mask, int64_t b, int64_t lq, int64_t lk, StreamHandle stream) {
  Padding p;
  if (mask == nullptr) return p;
  // A wait for the device inside the attention call (shown on its own in CHORUS_OP_PROFILE).
  const profile::Scope scope("attention: key-padding mask to host", Device::cpu());
  std::vector<uint8_t> host(b * lk);
  CHORUS_CHECK(cudaMemcpyAsync(host.data(), mask, host.size(), cudaMemcpyDeviceToHost, stream) ==
                       cudaSuccess &&
                   cudaStreamSynchronize(stream) == cudaSuccess,
               "scaled_dot_product_attention: reading key_padding_mask from the device failed");
  p.lens.assign(b, static_cast<int32_t>(lq));
  for (int64_t i = 0; i < b; ++i) {
    int64_t len = 0;
    while (len < lk && host[i * lk + len] == 0) ++len;
    for (int64_t j = len; j < lk && p.fused_ok; ++j) p.fused_ok = host[i * lk + j] != 0;
    if (len == 0) p.fused_ok = false;
    p.lens.push_back(static_cast<int32_t>(len));
  }
  return p;
}

// Problems cuDNN refused once (by their description): not asked again.
std::mutex g_refused_mu;
std::set<std::string> g_refused;

std::string problem_key(const dnn::SdpaProblem& p, bool backward) {
  return detail::concat(backward, p.b, ",", p.h, ",", p.s_q, ",", p.s_kv, ",", p.d, ",", p.d_v, ",",
                        static_cast<int>(p.dtype), p.causal, p.padding);
}

bool refused(const std::string& key) {
  std::lock_guard<std::mutex> lock(g_refused_mu);
  return g_refused.count(key) != 0;
}

void refuse(const std::string& key) {
  std::lock_guard<std::mutex> lock(g_refused_mu);
  g_refused.insert(key);
}

dnn::SdpaProblem problem(const Tensor& q, const Tensor& k, const Tensor& v,
                         const cpu::AttentionParams& params) {
  dnn::SdpaProblem p;
  p.b = q.size(0), p.h = q.size(1), p.s_q = q.size(2), p.s_kv = k.size(2);
  p.d = q.size(3), p.d_v = v.size(3);
  p.dtype = q.dtype();
  p.scale = static_cast<float>(params.scale);
  p.causal = params.causal;
  p.q = strides4(q), p.k = strides4(k), p.v = strides4(v);
  return p;
}

// Device int32 lengths for cuDNN; the tensor keeps them alive (stream-ordered allocator). The
// upload is queued without waiting for the stream (pinned_uploads.h).
Tensor device_lengths(const std::vector<int32_t>& lens, Device device, StreamHandle stream) {
  Tensor t = Tensor::empty({static_cast<int64_t>(lens.size())}, DType::kI32, device);
  upload_async(t.raw_data(), lens.data(), lens.size() * sizeof(int32_t), device.index(), stream);
  return t;
}

// f64 on CUDA: the CPU kernel on host copies, with the mask copied to the host as well.
template <auto CpuFn, class... A>
void on_host(const cpu::AttentionParams& params, int64_t b, int64_t lk, A&&... args) {
  cpu::AttentionParams hp = params;
  std::vector<uint8_t> mask;
  if (params.key_padding != nullptr) {
    mask.resize(b * lk);
    CHORUS_CHECK(cudaMemcpy(mask.data(), params.key_padding, mask.size(), cudaMemcpyDeviceToHost) ==
                     cudaSuccess,
                 "scaled_dot_product_attention: reading key_padding_mask failed");
    hp.key_padding = mask.data();
  }
  ops_internal::host_fallback<CpuFn>("cpu::attention", std::forward<A>(args)..., hp);
}

void cuda_attention_forward(const Tensor& out, const Tensor& lse, const Tensor& q, const Tensor& k,
                            const Tensor& v, const cpu::AttentionParams& params) {
  const int64_t b = q.size(0), h = q.size(1), lq = q.size(2), lk = k.size(2);
  if (q.dtype() == DType::kF64) {
    on_host<&cpu::attention_forward>(params, b, lk, out, lse, q, k, v);
    return;
  }
  const int dev = device_index(q, "scaled_dot_product_attention");
  DeviceGuard guard(dev);
  const StreamHandle stream = current_stream(dev);
  if (out.numel() == 0 && lse.numel() == 0) return;
  dnn::SdpaProblem p = problem(q, k, v, params);
  p.o = strides4(out);
  const Padding pad = read_padding(params.key_padding, b, lq, lk, stream);
  p.padding = params.key_padding != nullptr;
  const std::string key = problem_key(p, false);
  if (pad.fused_ok && dnn::sdpa_shape_supported(p) && !refused(key)) {
    try {
      Tensor lens = p.padding ? device_lengths(pad.lens, q.device(), stream) : Tensor();
      const int32_t* lq_ptr = p.padding ? static_cast<const int32_t*>(lens.raw_data()) : nullptr;
      dnn::sdpa_forward(p, q.raw_data(), k.raw_data(), v.raw_data(), out.raw_data(),
                        static_cast<float*>(lse.raw_data()), lq_ptr, lq_ptr ? lq_ptr + b : nullptr,
                        stream);
      return;
    } catch (const Error&) {
      refuse(key);  // cuDNN builds no plan for it: the exact kernels take it from now on
    }
  }
  dnn::FallbackAttention f{b,
                           h,
                           lq,
                           lk,
                           q.size(3),
                           v.size(3),
                           q.dtype(),
                           static_cast<float>(params.scale),
                           params.causal,
                           params.key_padding};
  dnn::attention_forward_fallback(f, rows(q), rows(k), rows(v), out.raw_data(),
                                  static_cast<float*>(lse.raw_data()), stream);
}

void cuda_attention_backward(const Tensor& dq, const Tensor& dk, const Tensor& dv, const Tensor& q,
                             const Tensor& k, const Tensor& v, const Tensor& out,
                             const Tensor& dout, const Tensor& lse,
                             const cpu::AttentionParams& params) {
  const int64_t b = q.size(0), h = q.size(1), lq = q.size(2), lk = k.size(2);
  if (q.dtype() == DType::kF64) {
    on_host<&cpu::attention_backward>(params, b, lk, dq, dk, dv, q, k, v, out, dout, lse);
    return;
  }
  const int dev = device_index(q, "scaled_dot_product_attention backward");
  DeviceGuard guard(dev);
  const StreamHandle stream = current_stream(dev);
  dnn::SdpaProblem p = problem(q, k, v, params);
  p.o = strides4(out), p.dout = strides4(dout);
  p.dq = strides4(dq), p.dk = strides4(dk), p.dv = strides4(dv);
  const Padding pad = read_padding(params.key_padding, b, lq, lk, stream);
  p.padding = params.key_padding != nullptr;
  const std::string key = problem_key(p, true);
  if (pad.fused_ok && dnn::sdpa_shape_supported(p) && !refused(key) && q.numel() > 0) {
    try {
      Tensor lens = p.padding ? device_lengths(pad.lens, q.device(), stream) : Tensor();
      const int32_t* lq_ptr = p.padding ? static_cast<const int32_t*>(lens.raw_data()) : nullptr;
      dnn::sdpa_backward(p, q.raw_data(), k.raw_data(), v.raw_data(), out.raw_data(),
                         dout.raw_data(), static_cast<const float*>(lse.raw_data()), dq.raw_data(),
                         dk.raw_data(), dv.raw_data(), lq_ptr, lq_ptr ? lq_ptr + b : nullptr,
                         stream);
      return;
    } catch (const Error&) {
      refuse(key);
    }
  }
  dnn::FallbackAttention f{b,
                           h,
                           lq,
                           lk,
                           q.size(3),
                           v.size(3),
                           q.dtype(),
                           static_cast<float>(params.scale),
                           params.causal,
                           params.key_padding};
  // dK/dV accumulators of the warp-per-row kernels; the short-sequence ones need none.
  const int64_t scratch_floats =
      dnn::small_attention_fits(f) ? 1 : std::max<int64_t>(1, b * h * lk * (f.d + f.dv));
  Tensor scratch = Tensor::empty({scratch_floats}, DType::kF32, q.device());
  dnn::attention_backward_fallback(f, rows(q), rows(k), rows(v), rows(out), rows(dout),
                                   static_cast<const float*>(lse.raw_data()), dq.raw_data(),
                                   dk.raw_data(), dv.raw_data(),
                                   static_cast<float*>(scratch.raw_data()), stream);
}

}  // namespace

CHORUS_REGISTER_CUDA_KERNEL(cpu::attention_forward, cuda_attention_forward);
CHORUS_REGISTER_CUDA_KERNEL(cpu::attention_backward, cuda_attention_backward);

}  // namespace chorus::cuda
