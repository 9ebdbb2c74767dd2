// File-system steps that checkpoint writing relies on for durability and atomicity: writing a
// file and forcing it to disk, syncing a directory so that renames inside it survive a crash,
// swapping two directory entries atomically, and checksumming a file. Internal to core/train.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace chorus::train::ckpt_internal {

// Creates `path` (which must not exist), writes `bytes`, fsyncs and closes it.
absl::Status write_new_file_synced(const std::string& path, std::string_view bytes);

// Reads a whole (small) file.
absl::StatusOr<std::string> read_small_file(const std::string& path);

// fsync on a directory makes the entries created or renamed in it durable. File systems that
// cannot sync directories (EINVAL) are accepted silently: there is nothing better to do there.
absl::Status sync_directory(const std::string& dir);

struct FileDigest {
  uint64_t size = 0;
  uint32_t crc32c = 0;
};
// Size and CRC-32C of a regular file, read in chunks.
absl::StatusOr<FileDigest> digest_file(const std::string& path);

// Atomically swaps the entries `a` and `b` (both must exist) with renameat2(RENAME_EXCHANGE).
// Unimplemented when the file system or kernel cannot (NFS, some FUSE and parallel file
// systems); the caller then falls back to two renames.
absl::Status exchange_paths(const std::string& a, const std::string& b);

// rename(2), with a Status naming both paths.
absl::Status rename_path(const std::string& from, const std::string& to);

// Removes a directory tree (or file); a missing path is not an error.
absl::Status remove_tree(const std::string& path);

// Tests only: pretend the file system lacks RENAME_EXCHANGE, to exercise the fallback.
void set_rename_exchange_disabled_for_testing(bool disabled);

}  // namespace chorus::train::ckpt_internal
