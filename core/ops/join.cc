// concat / stack / split / chunk. These only move data, so they need no dedicated kernel:
// concat copies each input into a strided window of the output with Tensor::copy_ (threaded,
// memmove for contiguous same-dtype blocks, dtype conversion included, and device-aware), and
// split returns windows of its input as views.
#include "core/ops/join.h"

#include "core/autograd/node.h"
#include "core/ops/elementwise.h"

namespace chorus {

using autograd::Grads;

namespace {

// The window of `t` spanning [start, start + length) along dim d, as a raw (unrecorded) view.
Tensor window(const Tensor& t, int64_t d, int64_t start, int64_t length) {
  Shape shape = t.shape();
  shape[d] = length;
  return t.as_strided(shape, t.strides(), t.offset() + start * t.strides()[d]);
}

// Views of x cut along dim d into pieces of `sizes` (already validated), recorded as one node
// whose backward concatenates the pieces' gradients. The engine zero-fills the gradient of a
// piece that received none, so using only some pieces works.
std::vector<Tensor> split_views(const char* op, const Tensor& x, int64_t d,
                                const std::vector<int64_t>& sizes) {
  std::vector<Tensor> pieces;
  pieces.reserve(sizes.size());
  int64_t start = 0;
  for (int64_t s : sizes) {
    pieces.push_back(window(x, d, start, s));
    start += s;
  }
  autograd::record(op, {x}, pieces, [d](const Grads& g) { return Grads{concat(g, d)}; });
  return pieces;
}

}  // namespace

Tensor concat(const std::vector<Tensor>& tensors, int64_t dim) {
  CHORUS_CHECK(!tensors.empty(), "concat: no tensors given");
  for (size_t i = 0; i < tensors.size(); ++i) {
    CHORUS_CHECK(tensors[i].defined(), "concat: tensor ", i, " is undefined");
    CHORUS_CHECK(tensors[i].device() == tensors[0].device(), "concat: tensor ", i, " is on ",
                 tensors[i].device().ToString(), ", tensor 0 on ", tensors[0].device().ToString());
  }
  DType dtype = tensors[0].dtype();
  for (const Tensor& t : tensors) dtype = promote_types(dtype, t.dtype());

  // The first tensor that is not a legacy 1-D empty one sets the rank and the other sizes.
  auto legacy_empty = [](const Tensor& t) { return t.dim() == 1 && t.numel() == 0; };
  size_t ref = 0;
  while (ref < tensors.size() && legacy_empty(tensors[ref])) ++ref;
  if (ref == tensors.size()) ref = 0;  // all are [0]: they join normally
  const Tensor& r = tensors[ref];
  CHORUS_CHECK(r.dim() > 0, "concat: cannot join 0-dim tensors; use stack");
  const int64_t d = wrap_dim(dim, r.dim());
  std::vector<bool> skip(tensors.size());
  Shape shape = r.shape();
  shape[d] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    skip[i] = r.dim() != 1 && legacy_empty(t);
    if (skip[i]) continue;
    bool ok = t.dim() == r.dim();
    for (int64_t k = 0; ok && k < r.dim(); ++k) ok = k == d || t.shape()[k] == r.shape()[k];
    CHORUS_CHECK(ok, "concat along dim ", d, ": tensor ", i, " has shape ", shape_str(t.shape()),
                 " but tensor ", ref, " has ", shape_str(r.shape()),
                 " (sizes must match outside the joined dim)");
    shape[d] += t.shape()[d];
  }

  Tensor out = Tensor::empty(shape, dtype, r.device());
  // starts[i] = where tensor i begins along d (-1 when skipped); lens[i] = its extent.
  std::vector<int64_t> starts(tensors.size(), -1), lens(tensors.size(), 0);
  int64_t start = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (skip[i]) continue;
    starts[i] = start;
    lens[i] = tensors[i].shape()[d];
    if (lens[i] > 0) window(out, d, start, lens[i]).copy_(tensors[i]);
    start += lens[i];
  }
  autograd::record("concat", tensors, {out}, [d, starts, lens](const Grads& g) {
    Grads grads(starts.size());  // skipped inputs get no gradient
    for (size_t i = 0; i < starts.size(); ++i) {
      if (starts[i] >= 0) grads[i] = g[0].narrow(d, starts[i], lens[i]);
    }
    return grads;
  });
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  CHORUS_CHECK(!tensors.empty(), "stack: no tensors given");
  for (size_t i = 0; i < tensors.size(); ++i) {
    CHORUS_CHECK(tensors[i].defined(), "stack: tensor ", i, " is undefined");
    CHORUS_CHECK(tensors[i].shape() == tensors[0].shape(), "stack: tensor ", i, " has shape ",
                 shape_str(tensors[i].shape()), " but tensor 0 has ", shape_str(tensors[0].shape()),
                 " (all must be equal)");
  }
  const int64_t d = wrap_dim(dim, tensors[0].dim() + 1);
  std::vector<Tensor> expanded;
  expanded.reserve(tensors.size());
  for (const Tensor& t : tensors) expanded.push_back(t.unsqueeze(d));
  return concat(expanded, d);
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  CHORUS_CHECK(x.dim() > 0, "split: cannot split a 0-dim tensor");
  const int64_t d = wrap_dim(dim, x.dim());
  const int64_t n = x.shape()[d];
  CHORUS_CHECK(split_size > 0 || (split_size == 0 && n == 0), "split: split_size ", split_size,
               " is invalid for dim ", d, " of size ", n, " (must be positive)");
  std::vector<int64_t> sizes;
  if (n == 0) sizes.push_back(0);
  for (int64_t start = 0; start < n; start += split_size) {
    sizes.push_back(std::min(split_size, n - start));
  }
  return split_views("split", x, d, sizes);
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  CHORUS_CHECK(x.dim() > 0, "split: cannot split a 0-dim tensor");
  const int64_t d = wrap_dim(dim, x.dim());
  int64_t total = 0;
  for (int64_t s : sizes) {
    CHORUS_CHECK(s >= 0, "split: negative size ", s, " in sizes ", shape_str(sizes));
    total += s;
  }
  CHORUS_CHECK(total == x.shape()[d], "split: sizes ", shape_str(sizes), " add up to ", total,
               " but dim ", d, " of ", shape_str(x.shape()), " has size ", x.shape()[d]);
  return split_views("split", x, d, sizes);
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  CHORUS_CHECK(chunks > 0, "chunk: chunks must be positive, got ", chunks);
  CHORUS_CHECK(x.dim() > 0, "chunk: cannot chunk a 0-dim tensor");
  const int64_t d = wrap_dim(dim, x.dim());
  const int64_t n = x.shape()[d];
  if (n == 0) return split(x, std::vector<int64_t>(static_cast<size_t>(chunks), 0), d);
  return split(x, (n + chunks - 1) / chunks, d);
}

}  // namespace chorus
