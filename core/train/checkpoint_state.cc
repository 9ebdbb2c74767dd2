// state.json encoding and strict decoding (see checkpoint_state.h).
#include "core/train/checkpoint_state.h"

#include <limits>

#include "absl/strings/str_cat.h"

namespace chorus::train::ckpt_internal {
namespace {

using nlohmann::json;

constexpr const char* kStateFormat = "chorus-checkpoint-state";
constexpr int kStateVersion = 1;

// Collects the first problem found while decoding, so each accessor stays one line.
class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path) {}

  const json* field(const json& obj, const char* key, const char* where) {
    if (!obj.is_object() || !obj.contains(key)) {
      fail(absl::StrCat(where, key, " is missing"));
      return nullptr;
    }
    return &obj.at(key);
  }
  std::string string(const json& obj, const char* key, const char* where = "") {
    const json* v = field(obj, key, where);
    if (v == nullptr) return {};
    if (!v->is_string()) return fail(absl::StrCat(where, key, " is not a string")), "";
    return v->get<std::string>();
  }
  int64_t int64(const json& obj, const char* key, const char* where = "") {
    const json* v = field(obj, key, where);
    if (v == nullptr) return 0;
    if (v->is_number_unsigned() &&
        v->get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return v->get<int64_t>();
    }
    if (v->is_number_integer() && !v->is_number_unsigned()) return v->get<int64_t>();
    return fail(absl::StrCat(where, key, " is not a 64-bit integer")), 0;
  }
  uint64_t uint64(const json& obj, const char* key, const std::string& where) {
    const json* v = field(obj, key, where.c_str());
    if (v == nullptr) return 0;
    if (!v->is_number_unsigned()) {
      return fail(absl::StrCat(where, key, " is not an unsigned 64-bit integer")), 0;
    }
    return v->get<uint64_t>();
  }
  json object(const json& obj, const char* key) {
    const json* v = field(obj, key, "");
    if (v == nullptr) return json::object();
    if (!v->is_object()) return fail(absl::StrCat(key, " is not a JSON object")), json::object();
    return *v;
  }

  void fail(const std::string& what) {
    if (status_.ok()) status_ = absl::DataLossError(absl::StrCat(path_, ": ", what));
  }
  const absl::Status& status() const { return status_; }

 private:
  const std::string& path_;
  absl::Status status_;
};

}  // namespace

std::string state_to_json(const CheckpointState& s) {
  json rng = json::object();
  for (const auto& [name, seed_offset] : s.rng) {
    rng[name] = {{"seed", seed_offset.first}, {"offset", seed_offset.second}};
  }
  const json j = {
      {"format", kStateFormat},
      {"version", kStateVersion},
      {"step", s.step},
      {"stage", s.stage},
      {"rng", rng},
      {"data_cursor", s.data_cursor},
      {"extra", s.extra},
      {"config", s.config},
      {"engine", {{"version", s.engine_version}, {"git_revision", s.git_revision}}},
      {"saved_at", s.saved_at},
      {"saved_at_unix_ms", s.saved_at_unix_ms},
  };
  return j.dump(2) + "\n";
}

absl::StatusOr<CheckpointState> state_from_json(const std::string& text, const std::string& path) {
  const json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    return absl::DataLossError(absl::StrCat(path, ": not a valid JSON object"));
  }
  Reader r(path);
  if (r.string(root, "format") != kStateFormat) {
    r.fail(absl::StrCat("format is not \"", kStateFormat, "\""));
  }
  if (const int64_t v = r.int64(root, "version"); r.status().ok() && v != kStateVersion) {
    r.fail(absl::StrCat("version is ", v, "; this engine reads version ", kStateVersion));
  }
  if (!r.status().ok()) return r.status();

  CheckpointState s;
  s.step = r.int64(root, "step");
  if (r.status().ok() && s.step < 0) r.fail("step is negative");
  s.stage = r.string(root, "stage");
  const json rng = r.object(root, "rng");  // a named copy: items() would dangle on a temporary
  for (const auto& [name, pair] : rng.items()) {
    const std::string where = absl::StrCat("rng.", name, ".");
    s.rng[name] = {r.uint64(pair, "seed", where), r.uint64(pair, "offset", where)};
  }
  s.data_cursor = r.object(root, "data_cursor");
  s.extra = r.object(root, "extra");
  s.config = r.string(root, "config");
  const json engine = r.object(root, "engine");
  s.engine_version = r.string(engine, "version", "engine.");
  s.git_revision = r.string(engine, "git_revision", "engine.");
  s.saved_at = r.string(root, "saved_at");
  s.saved_at_unix_ms = r.int64(root, "saved_at_unix_ms");
  if (!r.status().ok()) return r.status();
  return s;
}

}  // namespace chorus::train::ckpt_internal
