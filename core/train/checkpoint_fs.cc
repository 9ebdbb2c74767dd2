// POSIX file-system primitives behind checkpoint writing (see checkpoint_fs.h).
#include "core/train/checkpoint_fs.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2, RENAME_EXCHANGE (glibc >= 2.28)
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/io/crc32c.h"

namespace chorus::train::ckpt_internal {
namespace {

std::atomic<bool> g_exchange_disabled{false};

absl::Status errno_status(int error, const std::string& path, const char* what) {
  return absl::ErrnoToStatus(error, absl::StrCat(path, ": ", what));
}

// Closes a descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now so that the error (possible on network file systems) is seen.
  int close() {
    const int r = ::close(fd_);
    fd_ = -1;
    return r;
  }

 private:
  int fd_;
};

}  // namespace

absl::Status write_new_file_synced(const std::string& path, std::string_view bytes) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
  if (fd.get() < 0) return errno_status(errno, path, "cannot create");
  const char* p = bytes.data();
  size_t n = bytes.size();
  while (n > 0) {
    const ssize_t written = ::write(fd.get(), p, std::min<size_t>(n, size_t{1} << 30));
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno_status(errno, path, "write failed");
    }
    p += written;
    n -= static_cast<size_t>(written);
  }
  if (::fsync(fd.get()) != 0) return errno_status(errno, path, "fsync failed");
  if (fd.close() != 0) return errno_status(errno, path, "close failed");
  return absl::OkStatus();
}

absl::StatusOr<std::string> read_small_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return errno_status(errno, path, "cannot open");
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const ssize_t r = ::read(fd.get(), buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno_status(errno, path, "read failed");
    }
    if (r == 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  return out;
}

absl::Status sync_directory(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return errno_status(errno, dir, "cannot open directory to sync it");
  if (::fsync(fd.get()) != 0 && errno != EINVAL && errno != ENOTSUP) {
    return errno_status(errno, dir, "fsync of the directory failed");
  }
  return absl::OkStatus();
}

absl::StatusOr<FileDigest> digest_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return errno_status(errno, path, "cannot open");
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return errno_status(errno, path, "cannot stat");
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": not a regular file"));
  }
  // Sequential reads of large files: tell the kernel so it reads ahead aggressively.
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  FileDigest digest;
  std::vector<char> buf(size_t{4} << 20);
  for (;;) {
    const ssize_t r = ::read(fd.get(), buf.data(), buf.size());
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno_status(errno, path, "read failed");
    }
    if (r == 0) break;
    digest.crc32c = crc32c_extend(digest.crc32c, buf.data(), static_cast<size_t>(r));
    digest.size += static_cast<uint64_t>(r);
  }
  return digest;
}

absl::Status exchange_paths(const std::string& a, const std::string& b) {
  if (g_exchange_disabled.load()) {
    return absl::UnimplementedError("RENAME_EXCHANGE disabled for testing");
  }
  if (::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0) {
    return absl::OkStatus();
  }
  const int e = errno;
  if (e == EINVAL || e == ENOSYS || e == ENOTSUP) {
    return absl::UnimplementedError(
        absl::StrCat("the file system holding ", b, " cannot exchange directories atomically"));
  }
  return errno_status(e, b, absl::StrCat("cannot exchange with ", a).c_str());
}

absl::Status rename_path(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return errno_status(errno, to, absl::StrCat("cannot rename ", from, " to this name").c_str());
  }
  return absl::OkStatus();
}

absl::Status remove_tree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return absl::ErrnoToStatus(ec.value(), absl::StrCat(path, ": cannot remove"));
  return absl::OkStatus();
}

void set_rename_exchange_disabled_for_testing(bool disabled) { g_exchange_disabled = disabled; }

}  // namespace chorus::train::ckpt_internal
