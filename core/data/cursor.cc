#include "core/data/cursor.h"

#include <cerrno>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace chorus::data {
namespace {

constexpr int kCursorVersion = 1;

// 64-bit seeds and fingerprints are stored as decimal strings: JSON readers outside C++ (Python,
// JavaScript) would round integers beyond 2^53.
std::string u64_str(uint64_t v) { return std::to_string(v); }

absl::StatusOr<uint64_t> parse_u64(const nlohmann::json& j, const char* field) {
  if (!j.contains(field) || !j[field].is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("data cursor: \"", field, "\" must be a decimal string"));
  }
  const std::string& s = j[field].get_ref<const std::string&>();
  if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("data cursor: \"", field, "\" is not an unsigned integer: \"", s, "\""));
  }
  errno = 0;
  const unsigned long long v = std::strtoull(s.c_str(), nullptr, 10);
  if (errno == ERANGE) {
    return absl::InvalidArgumentError(absl::StrCat("data cursor: \"", field, "\" overflows"));
  }
  return static_cast<uint64_t>(v);
}

absl::StatusOr<int64_t> parse_i64(const nlohmann::json& j, const char* field, int64_t min) {
  if (!j.contains(field) || !j[field].is_number_integer()) {
    return absl::InvalidArgumentError(
        absl::StrCat("data cursor: \"", field, "\" must be an integer"));
  }
  const int64_t v = j[field].get<int64_t>();
  if (v < min) {
    return absl::InvalidArgumentError(
        absl::StrCat("data cursor: \"", field, "\" must be >= ", min, ", got ", v));
  }
  return v;
}

}  // namespace

nlohmann::json Cursor::to_json() const {
  return {{"version", kCursorVersion},
          {"seed", u64_str(seed)},
          {"epoch", epoch},
          {"position", position},
          {"rank", rank},
          {"world_size", world_size},
          {"fingerprint", u64_str(fingerprint)}};
}

absl::StatusOr<Cursor> Cursor::from_json(const nlohmann::json& j) {
  if (!j.is_object()) return absl::InvalidArgumentError("data cursor: expected a JSON object");
  if (!j.contains("version") || j["version"] != kCursorVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("data cursor: unsupported version (expected ", kCursorVersion, ")"));
  }
  Cursor c;
  auto seed = parse_u64(j, "seed");
  if (!seed.ok()) return seed.status();
  auto fingerprint = parse_u64(j, "fingerprint");
  if (!fingerprint.ok()) return fingerprint.status();
  auto epoch = parse_i64(j, "epoch", 0);
  if (!epoch.ok()) return epoch.status();
  auto position = parse_i64(j, "position", 0);
  if (!position.ok()) return position.status();
  auto rank = parse_i64(j, "rank", 0);
  if (!rank.ok()) return rank.status();
  auto world = parse_i64(j, "world_size", 1);
  if (!world.ok()) return world.status();
  if (*rank >= *world) {
    return absl::InvalidArgumentError(
        absl::StrCat("data cursor: rank ", *rank, " >= world_size ", *world));
  }
  c.seed = *seed;
  c.fingerprint = *fingerprint;
  c.epoch = *epoch;
  c.position = *position;
  c.rank = *rank;
  c.world_size = *world;
  return c;
}

}  // namespace chorus::data
