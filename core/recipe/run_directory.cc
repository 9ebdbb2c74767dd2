#include "core/recipe/run_directory.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "core/version.h"

namespace chorus::recipe {
namespace fs = std::filesystem;

namespace {

std::string utc_stamp(const char* format) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), format, &tm);
  return buf;
}

}  // namespace

absl::StatusOr<RunDirectory> RunDirectory::Create(const std::string& output_root,
                                                  const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    return absl::InvalidArgumentError("run name '" + name +
                                      "' must be a non-empty single path component");
  }
  const fs::path parent = fs::path(output_root) / name;
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) {
    return absl::PermissionDeniedError("cannot create run folder " + parent.string() + ": " +
                                       ec.message());
  }
  const std::string stamp = utc_stamp("%Y%m%d-%H%M%S");
  for (int attempt = 1; attempt < 1000; ++attempt) {
    fs::path dir = parent / (attempt == 1 ? stamp : stamp + "-" + std::to_string(attempt));
    // create_directory reports whether it made the folder: two processes racing for the same
    // second cannot both get it.
    if (fs::create_directory(dir, ec)) return RunDirectory(dir.string());
    if (ec) {
      return absl::PermissionDeniedError("cannot create run folder " + dir.string() + ": " +
                                         ec.message());
    }
  }
  return absl::ResourceExhaustedError("too many runs named '" + name + "' in one second");
}

absl::StatusOr<RunDirectory> RunDirectory::Open(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    return absl::NotFoundError("run folder " + path + " does not exist");
  }
  return RunDirectory(path);
}

absl::StatusOr<RunDirectory> RunDirectory::Latest(const std::string& output_root,
                                                  const std::string& name) {
  const fs::path parent = fs::path(output_root) / name;
  std::error_code ec;
  std::vector<std::string> runs;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory()) runs.push_back(it->path().filename().string());
  }
  if (runs.empty()) {
    return absl::NotFoundError("no earlier run under " + parent.string());
  }
  // Timestamps sort as text; "-N" suffixes of the same second sort after the plain one, but
  // "-10" sorts before "-2": compare (stamp, suffix number).
  auto key = [](const std::string& s) {
    const size_t dash = s.find('-', 9);
    const long n = dash == std::string::npos ? 1 : std::atol(s.c_str() + dash + 1);
    return std::make_pair(s.substr(0, std::min(s.size(), size_t{15})), n);
  };
  auto newest = std::max_element(runs.begin(), runs.end(),
                                 [&](const auto& a, const auto& b) { return key(a) < key(b); });
  return RunDirectory((parent / *newest).string());
}

absl::Status RunDirectory::WriteText(const std::string& name, const std::string& text) const {
  const std::string target = file(name);
  const std::string temp = target + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) return absl::PermissionDeniedError("cannot write " + temp);
    out << text;
    out.flush();
    if (!out) return absl::DataLossError("short write to " + temp);
  }
  std::error_code ec;
  fs::rename(temp, target, ec);
  if (ec) return absl::InternalError("cannot rename " + temp + ": " + ec.message());
  return absl::OkStatus();
}

std::string shell_quote(const std::string& arg) {
  if (!arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789-_./=:+,@%") == std::string::npos) {
    return arg;
  }
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

absl::Status RunDirectory::WriteCommand(
    const std::vector<std::string>& argv,
    const std::map<std::string, std::string>& plugin_versions) const {
  std::string text;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (i > 0) text += ' ';
    text += shell_quote(argv[i]);
  }
  text += "\n";
  text += std::string("engine: chorus ") + kVersion + " (git " + kGitRevision + ", " + kBuildType +
          ")\n";
  text += "started: " + utc_stamp("%Y-%m-%dT%H:%M:%SZ") + "\n";
  for (const auto& [name, version] : plugin_versions) {
    text += "plugin: " + name + " " + version + "\n";
  }
  return WriteText("command.txt", text);
}

RunLog::~RunLog() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status RunLog::Open(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (file_ != nullptr) std::fclose(file_);
  file_ = std::fopen(path.c_str(), "a");
  if (file_ == nullptr) return absl::PermissionDeniedError("cannot open log " + path);
  return absl::OkStatus();
}

void RunLog::Line(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (echo_) std::cout << line << std::endl;
  if (file_ != nullptr) {
    std::fprintf(file_, "[%s] %s\n", utc_stamp("%H:%M:%S").c_str(), line.c_str());
    std::fflush(file_);
  }
}

void RunLog::FileOnly(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (file_ != nullptr) {
    std::fprintf(file_, "[%s] %s\n", utc_stamp("%H:%M:%S").c_str(), line.c_str());
    std::fflush(file_);
  }
}

}  // namespace chorus::recipe
