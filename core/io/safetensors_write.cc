// save_safetensors: lays tensors out, encodes the header, writes a temporary file and renames
// it over the destination so that readers never see a half-written file.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <filesystem>
#include <numeric>
#include <set>

#include "absl/strings/str_cat.h"
#include "core/io/safetensors.h"

namespace chorus {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host would need byte swaps");

absl::Status errno_status(int error, const std::string& path, const char* what) {
  return absl::ErrnoToStatus(error, absl::StrCat(path, ": ", what));
}

// A temporary file beside the destination, removed on destruction unless committed.
class TempFile {
 public:
  TempFile() = default;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) close(fd_);
    if (!name_.empty()) unlink(name_.c_str());
  }

  // O_EXCL with a per-process counter: two writers (threads or processes) never share a name.
  // Mode 0666 lets the umask decide the final permissions, as for any newly created file.
  absl::Status create(const std::string& dest) {
    static std::atomic<uint64_t> counter{0};
    for (int attempt = 0; attempt < 100; ++attempt) {
      std::string name = absl::StrCat(dest, ".tmp.", getpid(), ".", counter.fetch_add(1));
      fd_ = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd_ >= 0) {
        name_ = std::move(name);
        return absl::OkStatus();
      }
      if (errno != EEXIST) return errno_status(errno, dest, "cannot create a temporary file");
    }
    return absl::AlreadyExistsError(absl::StrCat(dest, ": no free temporary file name"));
  }

  absl::Status write(const void* data, size_t n, const std::string& dest) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      const ssize_t written = ::write(fd_, p, std::min<size_t>(n, size_t{1} << 30));
      if (written < 0) {
        if (errno == EINTR) continue;
        return errno_status(errno, dest, "write failed");
      }
      p += written;
      n -= static_cast<size_t>(written);
    }
    return absl::OkStatus();
  }

  // Flushes and renames over `dest`. After success the destructor leaves the file alone.
  absl::Status commit(const std::string& dest) {
    if (fsync(fd_) != 0) return errno_status(errno, dest, "fsync failed");
    const int fd = fd_;
    fd_ = -1;
    if (close(fd) != 0) return errno_status(errno, dest, "close failed");
    if (rename(name_.c_str(), dest.c_str()) != 0) {
      return errno_status(errno, dest, "cannot rename the temporary file into place");
    }
    name_.clear();
    return absl::OkStatus();
  }

 private:
  int fd_ = -1;
  std::string name_;
};

// Makes the rename durable. Best effort: some file systems refuse fsync on directories, and
// the data itself is already safe on disk by then.
void sync_directory(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::filesystem::path dir = parent.empty() ? std::filesystem::path(".") : parent;
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

}  // namespace

absl::Status save_safetensors(const std::string& path,
                              const std::vector<std::pair<std::string, Tensor>>& tensors,
                              const std::map<std::string, std::string>& metadata) {
  // Validate everything before touching the file system.
  std::set<std::string> seen;
  for (const auto& [name, t] : tensors) {
    if (!t.defined()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": tensor '", name, "' is undefined"));
    }
    if (!seen.insert(name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": tensor name '", name, "' appears twice"));
    }
  }

  // Wider dtypes first (stable, so equal widths keep the caller's order): with the data buffer
  // 8-byte aligned, every tensor then starts at a multiple of its element size, which lets
  // readers view the bytes in place.
  std::vector<size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return tensors[a].second.itemsize() > tensors[b].second.itemsize();
  });
  std::vector<SafetensorsTensorInfo> infos;
  uint64_t offset = 0;
  for (size_t i : order) {
    const Tensor& t = tensors[i].second;
    SafetensorsTensorInfo info{tensors[i].first, t.dtype(), t.shape(), offset, offset + t.nbytes()};
    offset = info.end;
    infos.push_back(std::move(info));
  }
  auto header = encode_safetensors_header(infos, metadata);
  if (!header.ok()) {
    return absl::Status(header.status().code(),
                        absl::StrCat(path, ": ", header.status().message()));
  }

  TempFile tmp;
  if (auto s = tmp.create(path); !s.ok()) return s;
  if (auto s = tmp.write(header->data(), header->size(), path); !s.ok()) return s;
  for (size_t i : order) {
    const auto& [name, t] = tensors[i];
    Tensor c;
    try {
      // Device tensors are staged through host memory one at a time, so a checkpoint of a
      // GPU model needs host memory for its largest tensor, not for the whole model.
      c = t.device().is_cpu() ? t.detach().contiguous() : t.detach().to(Device::cpu());
    } catch (const std::exception& e) {
      // Out of host memory, or a device tensor whose backend is not loaded.
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": cannot read tensor '", name, "': ", e.what()));
    }
    if (auto s = tmp.write(c.raw_data(), c.nbytes(), path); !s.ok()) return s;
  }
  if (auto s = tmp.commit(path); !s.ok()) return s;
  sync_directory(path);
  return absl::OkStatus();
}

}  // namespace chorus
