// SafetensorsFile: mapping a file, validating its header, handing out tensors.
#include "core/io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace chorus {

struct SafetensorsFile::Mapping {
  void* addr = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (addr != nullptr) munmap(addr, size);
  }
};

SafetensorsFile::SafetensorsFile(std::string path, std::shared_ptr<const Mapping> mapping,
                                 SafetensorsHeader header)
    : path_(std::move(path)), mapping_(std::move(mapping)), header_(std::move(header)) {
  for (size_t i = 0; i < header_.tensors.size(); ++i) index_[header_.tensors[i].name] = i;
}

absl::StatusOr<SafetensorsFile> SafetensorsFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat(path, ": cannot open"));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const int e = errno;
    close(fd);
    return absl::ErrnoToStatus(e, absl::StrCat(path, ": cannot stat"));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  }
  auto mapping = std::make_shared<Mapping>();
  mapping->size = static_cast<size_t>(st.st_size);
  if (mapping->size > 0) {  // mmap rejects length 0; the parser reports the empty file
    // Private and writable: see the class comment. NORESERVE: a private writable mapping
    // would otherwise be charged in full against overcommit, refusing large checkpoints.
    void* addr =
        mmap(nullptr, mapping->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, 0);
    if (addr == MAP_FAILED) {
      const int e = errno;
      close(fd);
      return absl::ErrnoToStatus(e, absl::StrCat(path, ": cannot mmap"));
    }
    mapping->addr = addr;
  }
  close(fd);  // the mapping keeps the file referenced

  auto header = parse_safetensors(mapping->addr, mapping->size, path);
  if (!header.ok()) return header.status();
  return SafetensorsFile(path, std::move(mapping), *std::move(header));
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  out.reserve(header_.tensors.size());
  for (const auto& t : header_.tensors) out.push_back(t.name);
  return out;
}

absl::StatusOr<const SafetensorsTensorInfo*> SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) {
    return absl::NotFoundError(absl::StrCat(path_, ": no tensor named '", name, "'"));
  }
  return &header_.tensors[it->second];
}

absl::StatusOr<SafetensorsTensorInfo> SafetensorsFile::info(const std::string& name) const {
  auto found = find(name);
  if (!found.ok()) return found.status();
  return **found;
}

const char* SafetensorsFile::bytes(const SafetensorsTensorInfo& info) const {
  // parse_safetensors guaranteed data_start + end <= mapping size.
  return static_cast<const char*>(mapping_->addr) + header_.data_start + info.begin;
}

absl::StatusOr<Tensor> SafetensorsFile::load(const std::string& name) const {
  auto found = find(name);
  if (!found.ok()) return found.status();
  const SafetensorsTensorInfo& info = **found;
  try {
    Tensor t = Tensor::empty(info.shape, info.dtype);
    if (info.nbytes() > 0) std::memcpy(t.raw_data(), bytes(info), info.nbytes());
    return t;
  } catch (const std::exception& e) {  // allocation failure
    return absl::ResourceExhaustedError(
        absl::StrCat(path_, ": cannot load tensor '", name, "': ", e.what()));
  }
}

absl::StatusOr<Tensor> SafetensorsFile::load_view(const std::string& name) const {
  auto found = find(name);
  if (!found.ok()) return found.status();
  const SafetensorsTensorInfo& info = **found;
  const char* p = bytes(info);
  if (reinterpret_cast<uintptr_t>(p) % dtype_size(info.dtype) != 0) return load(name);
  // The release function owns a reference to the mapping: the file stays mapped as long as
  // any tensor viewing it is alive, even after this SafetensorsFile is gone.
  auto storage = std::make_shared<Storage>(const_cast<char*>(p), info.nbytes(), Device::cpu(),
                                           [keep = mapping_] {});
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->shape = info.shape;
  impl->strides = contiguous_strides(info.shape);
  impl->dtype = info.dtype;
  return Tensor(std::move(impl));
}

absl::StatusOr<std::map<std::string, Tensor>> SafetensorsFile::load_all() const {
  std::map<std::string, Tensor> out;
  for (const auto& t : header_.tensors) {
    auto loaded = load(t.name);
    if (!loaded.ok()) return loaded.status();
    out.emplace(t.name, *std::move(loaded));
  }
  return out;
}

}  // namespace chorus
