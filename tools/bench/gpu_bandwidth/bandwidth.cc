// Achieved memory bandwidth of the CUDA row kernels against a device-to-device copy.
//
// Each line of output is one JSON object: {"op", "shape", "dtype", "ms", "gbps", "pct_copy"}.
// Bytes counted are the bytes an ideal kernel moves (each input read once, each output
// written once); ms is the mean over the timed iterations, measured with CUDA events on the
// current stream. The ops run through their public front-ends (what a model calls), except
// cross-entropy, whose front-end also validates targets on the host: its kernels are timed
// through their dispatch slots as well, to show both.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "core/ops/cpu/elementwise_kernels.h"
#include "core/ops/cpu/loss_kernels.h"
#include "core/ops/cpu/normalization_kernels.h"
#include "core/ops/cpu/softmax_kernels.h"
#include "core/ops/cuda/runtime.h"
#include "core/ops/elementwise.h"
#include "core/ops/fused_adamw.h"
#include "core/ops/kernel_dispatch.h"
#include "core/ops/loss.h"
#include "core/ops/normalization.h"
#include "core/ops/reduce.h"
#include "core/ops/softmax.h"
#include "core/tensor/tensor.h"

using namespace chorus;

namespace {

const Device kGpu = Device::cuda(0);
double g_copy_gbps = 0;

// Mean milliseconds of `fn` over `iters` runs after `warmup` runs.
double time_ms(const std::function<void()>& fn, int warmup = 3, int iters = 20) {
  for (int i = 0; i < warmup; ++i) fn();
  cuda::Event start(0), stop(0);
  start.record(cuda::current_stream(0));
  for (int i = 0; i < iters; ++i) fn();
  stop.record(cuda::current_stream(0));
  stop.synchronize();
  return stop.elapsed_ms(start) / iters;
}

void report(const std::string& op, const std::string& shape, const char* dtype, double bytes,
            double ms) {
  const double gbps = bytes / (ms * 1e-3) / 1e9;
  std::printf(
      "{\"op\": \"%s\", \"shape\": \"%s\", \"dtype\": \"%s\", \"ms\": %.4f, \"gbps\": %.1f, "
      "\"pct_copy\": %.1f}\n",
      op.c_str(), shape.c_str(), dtype, ms, gbps,
      g_copy_gbps > 0 ? 100.0 * gbps / g_copy_gbps : 0.0);
  std::fflush(stdout);
}

Tensor randn_like_gpu(const Shape& shape, DType dtype) {
  // Values do not matter for bandwidth; a cheap deterministic fill on the host would dominate
  // setup time for GiB-sized tensors, so fill on the device.
  Tensor t = Tensor::full(shape, 0.5, dtype, kGpu);
  return t;
}

std::string str(int64_t a, int64_t b) { return std::to_string(a) + "x" + std::to_string(b); }

int64_t fallback_calls() {
  int64_t n = 0;
  for (const auto& [name, calls] : ops_internal::host_fallback_counts()) n += calls;
  return n;
}

// The pieces of an op's backward, timed one by one (diag_* rows), with the number of host
// fallbacks each ran through on stderr: where the time of a fwd+bwd row goes beyond its kernels.
void diagnose_backward(int64_t rows, int64_t d) {
  const DType bf16 = DType::kBF16;
  const Tensor x = randn_like_gpu({rows, d}, bf16), g = randn_like_gpu({rows, d}, bf16);
  const double n = static_cast<double>(x.nbytes());
  auto row = [&](const char* op, double bytes, const std::function<void()>& fn) {
    const int64_t before = fallback_calls();
    report(op, str(rows, d), "bf16", bytes, time_ms(fn));
    std::fprintf(stderr, "%s: %lld host fallbacks over 23 calls\n", op,
                 static_cast<long long>(fallback_calls() - before));
  };
  row("diag_clone", 2 * n, [&] { x.clone(); });
  row("diag_cast_to_f32", 3 * n, [&] { x.to(DType::kF32); });
  row("diag_add", 3 * n, [&] { add(x, g); });
  {
    const Tensor a32 = x.to(DType::kF32), b32 = g.to(DType::kF32);
    const Tensor o32 = Tensor::empty({rows, d}, DType::kF32, kGpu);
    row("diag_add_f32", 6 * n, [&] { add(a32, b32); });
    row("diag_binary_slot_f32", 6 * n, [&] {
      CHORUS_KERNEL(cpu::binary_kernel)(cpu::BinaryOp::kAdd, o32, a32, b32);
    });
    row("diag_mul_scalar_f32", 4 * n, [&] { mul(a32, 2.0); });
    row("diag_cast_to_bf16", 3 * n, [&] { a32.to(DType::kBF16); });
    row("diag_sum_all_f32", 2 * n, [&] { sum(a32); });
    row("diag_sum_rows_f32", 2 * n, [&] { sum(a32, {1}); });
    row("diag_sum_cols_f32", 2 * n, [&] { sum(a32, {0}); });
  }
  const Tensor y = softmax(x, -1);
  row("diag_softmax_bwd_kernel", 3 * n, [&] {
    Tensor gx = Tensor::empty({rows, d}, bf16, kGpu);
    CHORUS_KERNEL(cpu::softmax_backward)(gx, g, y, rows, d, 1, false);
  });
  const Tensor xg = x.detach().set_requires_grad();
  row("diag_softmax_fwd_bwd_fresh_grad", 5 * n, [&] {
    xg.set_grad(Tensor());
    softmax(xg, -1).backward(g);
  });
  row("diag_softmax_fwd_bwd_accumulate", 5 * n, [&] { softmax(xg, -1).backward(g); });
  const Tensor xn = x.detach().set_requires_grad();
  row("diag_softmax_fwd_bwd_no_leaf_grad", 5 * n, [&] {
    // A non-leaf path: the gradient stops at a detached mul output, no AccumulateGrad.
    Tensor h = mul(xn, 1.0);
    softmax(h, -1).backward(g);
    xn.set_grad(Tensor());
  });
}

}  // namespace

int main() {
  if (cuda::device_count() == 0) {
    std::fprintf(stderr, "no CUDA device\n");
    return 1;
  }
  {  // Device-to-device copy of 1 GiB: the reference bandwidth (read + write counted).
    Tensor a = Tensor::empty({int64_t{1} << 28}, DType::kF32, kGpu);
    Tensor b = Tensor::empty({int64_t{1} << 28}, DType::kF32, kGpu);
    const double ms = time_ms([&] { b.copy_(a); });
    const double bytes = 2.0 * a.nbytes();
    g_copy_gbps = bytes / (ms * 1e-3) / 1e9;
    report("d2d_copy", "2^28", "f32", bytes, ms);
  }
  // CHORUS_BW_ONLY=rows: the row kernels only (no diag_* or AdamW rows), for tuning sweeps.
  const char* only = std::getenv("CHORUS_BW_ONLY");
  const bool rows_only = only != nullptr && std::string(only) == "rows";
  if (!rows_only) diagnose_backward(16384, 4096);
  const DType bf16 = DType::kBF16;
  for (auto [rows, d] : {std::pair<int64_t, int64_t>{16384, 4096}, {65536, 1024}, {4096, 8192}}) {
    const Tensor x = randn_like_gpu({rows, d}, bf16);
    const Tensor w = Tensor::ones({d}, DType::kF32, kGpu),
                 b = Tensor::zeros({d}, DType::kF32, kGpu);
    const double io = 2.0 * x.nbytes();
    report("layer_norm_fwd", str(rows, d), "bf16", io,
           time_ms([&] { layer_norm(x, {d}, w, b, 1e-5); }));
    report("rms_norm_fwd", str(rows, d), "bf16", io, time_ms([&] { rms_norm(x, w, 1e-6); }));
    report("softmax_fwd", str(rows, d), "bf16", io, time_ms([&] { softmax(x, -1); }));
    {  // backward: read g and x (or y), write gx; the parameter-gradient pass re-reads g, x.
      const Tensor xg = x.detach().set_requires_grad();
      const Tensor wg = w.detach().set_requires_grad();
      const Tensor g = randn_like_gpu({rows, d}, bf16);
      report("rms_norm_fwd_bwd", str(rows, d), "bf16", 2.0 * io + 3.0 * x.nbytes(),
             time_ms([&] { rms_norm(xg, wg, 1e-6).backward(g); }));
      report("softmax_fwd_bwd", str(rows, d), "bf16", io + 3.0 * x.nbytes(),
             time_ms([&] { softmax(xg, -1).backward(g); }));
      // The backward kernels alone (read g and x or y, write gx; the rms_norm weight-gradient
      // partials are not counted): what the *_fwd_bwd rows spend beyond their kernels is the
      // autograd around them (gradient accumulation into x.grad, allocations).
      const Tensor gx = Tensor::empty({rows, d}, bf16, kGpu);
      const Tensor gw = Tensor::empty({d}, DType::kF32, kGpu);
      const Tensor rstd = Tensor::empty({rows}, DType::kF32, kGpu);
      const Tensor y = Tensor::empty({rows, d}, bf16, kGpu);
      CHORUS_KERNEL(cpu::rms_norm_forward)(y, rstd, x, w, 1e-6);
      report("rms_norm_bwd_kernel", str(rows, d), "bf16", 3.0 * x.nbytes(), time_ms([&] {
               CHORUS_KERNEL(cpu::rms_norm_backward)
               (gx, gw, g, x, rstd, w);
             }));
      const Tensor ys = softmax(x, -1);
      report("softmax_bwd_kernel", str(rows, d), "bf16", 3.0 * x.nbytes(), time_ms([&] {
               CHORUS_KERNEL(cpu::softmax_backward)
               (gx, g, ys, rows, d, 1, false);
             }));
    }
  }
  for (auto [n, c] : {std::pair<int64_t, int64_t>{8192, 32000}, {4096, 128256}, {16384, 50257}}) {
    const Tensor logits = randn_like_gpu({n, c}, bf16);
    const Tensor targets = Tensor::zeros({n}, DType::kI64, kGpu);
    const Tensor loss = Tensor::empty({n}, DType::kF32, kGpu),
                 lse = Tensor::empty({n}, DType::kF32, kGpu);
    const Tensor grad = Tensor::ones({1}, DType::kF32, kGpu);
    const Tensor gx = Tensor::empty({n, c}, bf16, kGpu);
    report("cross_entropy_fwd_kernel", str(n, c), "bf16", logits.nbytes(), time_ms([&] {
             CHORUS_KERNEL(cpu::cross_entropy_forward)(loss, lse, logits, targets, -100, 0.0);
           }));
    report("cross_entropy_bwd_kernel", str(n, c), "bf16", 2.0 * logits.nbytes(), time_ms([&] {
             CHORUS_KERNEL(cpu::cross_entropy_backward)
             (gx, grad, 1.0 / n, logits, targets, lse, -100, 0.0);
           }));
    const Tensor lg = logits.detach().set_requires_grad();
    report("cross_entropy_fwd_bwd_op", str(n, c), "bf16", 3.0 * logits.nbytes(),
           time_ms([&] { cross_entropy(lg, targets).backward(); }));
  }
  for (int64_t n : {int64_t{1} << 24, int64_t{1} << 27}) {
    if (rows_only) break;
    const Tensor p = randn_like_gpu({n}, DType::kF32), m = randn_like_gpu({n}, DType::kF32);
    const Tensor v = randn_like_gpu({n}, DType::kF32);
    AdamWStep h;
    h.weight_decay = 0.1;
    for (DType gd : {DType::kF32, DType::kBF16}) {
      const Tensor g = randn_like_gpu({n}, gd);
      // p, m, v read and written, g read.
      const double bytes = 6.0 * p.nbytes() + g.nbytes();
      report(std::string("adamw_grad_") + dtype_name(gd), std::to_string(n), "f32", bytes,
             time_ms([&] { fused_adamw_(p, g, m, v, h); }));
    }
  }
  return 0;
}
