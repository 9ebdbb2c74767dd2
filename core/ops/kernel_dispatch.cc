#include "core/ops/kernel_dispatch.h"

#include <map>
#include <mutex>

namespace chorus::ops_internal {
namespace {

std::mutex g_mutex;
std::map<std::string, int64_t>& counts() {
  static auto* m = new std::map<std::string, int64_t>();
  return *m;
}

// The whole storage as a flat byte tensor (what a mirror copies).
Tensor bytes_of(const std::shared_ptr<Storage>& s) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = s;
  impl->shape = {static_cast<int64_t>(s->nbytes())};
  impl->strides = {1};
  impl->dtype = DType::kU8;
  return Tensor(std::move(impl));
}

}  // namespace

void note_host_fallback(const char* kernel) {
  std::lock_guard<std::mutex> lock(g_mutex);
  ++counts()[kernel];
}

std::vector<std::pair<std::string, int64_t>> host_fallback_counts() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return {counts().begin(), counts().end()};
}

const Tensor& HostMirror::mirror(const Tensor& t) {
  if (!t.defined() || t.device().is_cpu()) return t;
  std::shared_ptr<Storage> host;
  for (const Entry& e : entries_) {
    if (e.device == t.storage()) host = e.host;
  }
  if (!host) {
    host = std::make_shared<Storage>(t.storage()->nbytes(), Device::cpu());
    bytes_of(host).copy_(bytes_of(t.storage()));
    entries_.push_back({t.storage(), host});
  }
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = host;
  impl->shape = t.shape();
  impl->strides = t.strides();
  impl->offset = t.offset();
  impl->dtype = t.dtype();
  keep_.push_back(std::make_unique<Tensor>(std::move(impl)));
  return *keep_.back();
}

void HostMirror::finish() {
  for (const Entry& e : entries_) bytes_of(e.device).copy_(bytes_of(e.host));
}

}  // namespace chorus::ops_internal
