// RunDirectory: where one `chorus train` run writes everything a researcher reads afterwards.
//
//   runs/<name>/<timestamp>/
//     recipe.resolved.yaml   the recipe after defaults, overrides and interpolation
//     command.txt            the command line, engine version, git revision, plugin versions
//     log.txt                everything the run printed (the terminal shows the same lines)
//     metrics.jsonl          one JSON object per logged step (written by the trainer)
//     checkpoints/           step-NNNNNNNN/ directories (core/train/checkpoint.h)
//     eval.json              final metrics
//     report.html            one self-contained page of plots
//
// The timestamp is UTC to the second ("20261128-193012"); two runs started within the same
// second get "-2", "-3" suffixes instead of sharing a folder. Resuming reuses an existing
// directory (Open) rather than creating a new one.
#pragma once

#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace chorus::recipe {

class RunDirectory {
 public:
  // Makes <output_root>/<name>/<UTC timestamp>/ (and the parents).
  static absl::StatusOr<RunDirectory> Create(const std::string& output_root,
                                             const std::string& name);
  // Uses an existing run directory (resume).
  static absl::StatusOr<RunDirectory> Open(const std::string& path);
  // The newest run of <output_root>/<name>/ (by timestamp name); NotFound when there is none.
  static absl::StatusOr<RunDirectory> Latest(const std::string& output_root,
                                             const std::string& name);

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string checkpoints() const { return file("checkpoints"); }

  // Writes a text file in the run directory atomically (temporary name, then rename), so a
  // crash never leaves a half-written recipe or eval.json behind.
  absl::Status WriteText(const std::string& name, const std::string& text) const;

  // command.txt: the argv joined with shell quoting, then "engine: <version> (git <rev>)" and
  // one "plugin: <name> <version> <path>" line per loaded plugin.
  absl::Status WriteCommand(const std::vector<std::string>& argv,
                            const std::map<std::string, std::string>& plugin_versions) const;

 private:
  explicit RunDirectory(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// Quotes one argument for a POSIX shell when it needs it ("a b" -> 'a b').
std::string shell_quote(const std::string& arg);

// Appends every line to <run>/log.txt and echoes it to the terminal (stdout). Thread-safe.
class RunLog {
 public:
  RunLog() = default;
  ~RunLog();
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;

  absl::Status Open(const std::string& path);  // appends; creates the file when absent
  void set_echo(bool echo) { echo_ = echo; }
  // Writes `line` (a trailing newline is added) with a "[HH:MM:SS] " prefix in the file.
  void Line(const std::string& line);
  // Writes to the file only (e.g. progress lines already drawn on the terminal).
  void FileOnly(const std::string& line);

 private:
  std::mutex mu_;
  std::FILE* file_ = nullptr;
  bool echo_ = true;
};

}  // namespace chorus::recipe
