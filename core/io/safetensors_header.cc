#include "core/io/safetensors_header.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace chorus {
namespace {

using Json = nlohmann::json;

constexpr const char* kMetadataKey = "__metadata__";

// A valid header nests three containers deep (root > entry > shape). Anything much deeper is
// garbage; refusing it early keeps "[[[[..." from building an enormous DOM.
constexpr int kMaxDepth = 16;

struct DTypeString {
  DType dtype;
  const char* text;
};
constexpr DTypeString kDTypeStrings[] = {
    {DType::kF64, "F64"}, {DType::kF32, "F32"},        {DType::kBF16, "BF16"},
    {DType::kF16, "F16"}, {DType::kF8E4M3, "F8_E4M3"}, {DType::kF8E5M2, "F8_E5M2"},
    {DType::kI64, "I64"}, {DType::kI32, "I32"},        {DType::kI8, "I8"},
    {DType::kU8, "U8"},   {DType::kBool, "BOOL"},
};

// Aborts JSON parsing from inside the parser callback (nlohmann lets exceptions through).
struct ParseAbort {
  std::string reason;
};

// A name quoted for an error message: non-printable bytes escaped, long names shortened, so a
// hostile name cannot flood or garble the message.
std::string show(std::string_view s) {
  constexpr size_t kMaxShown = 80;
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out += static_cast<char>(c);
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (s.size() > kMaxShown) absl::StrAppend(&out, "...(", s.size(), " bytes)");
  return out + "'";
}

// A JSON value for an error message, shortened.
std::string brief(const Json& v) {
  std::string text = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > 80) text = text.substr(0, 80) + "...";
  return text;
}

std::string shape_text(const Shape& shape) { return "[" + absl::StrJoin(shape, ", ") + "]"; }

uint64_t read_le64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Builds errors that start with the source name.
class Errors {
 public:
  explicit Errors(std::string_view source) : prefix_(std::string(source) + ": ") {}
  template <class... Args>
  absl::Status invalid(const Args&... args) const {
    return absl::InvalidArgumentError(absl::StrCat(prefix_, args...));
  }
  template <class... Args>
  absl::Status data_loss(const Args&... args) const {
    return absl::DataLossError(absl::StrCat(prefix_, args...));
  }

 private:
  std::string prefix_;
};

// Parses the JSON text, rejecting duplicate keys at any level (nlohmann would silently keep the
// last one, letting a file say two different things about one tensor) and deep nesting.
absl::StatusOr<Json> parse_json(std::string_view text, const Errors& err) {
  std::vector<std::set<std::string>> open_objects;  // keys seen in each enclosing object
  auto callback = [&](int depth, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start:
        if (depth >= kMaxDepth) {
          throw ParseAbort{absl::StrCat("nested deeper than ", kMaxDepth, " levels")};
        }
        if (event == Json::parse_event_t::object_start) open_objects.emplace_back();
        break;
      case Json::parse_event_t::object_end:
        open_objects.pop_back();
        break;
      case Json::parse_event_t::key: {
        const auto& key = parsed.get_ref<const std::string&>();
        if (!open_objects.back().insert(key).second) {
          throw ParseAbort{open_objects.size() == 1
                               ? absl::StrCat("tensor name ", show(key), " appears twice")
                               : absl::StrCat("duplicate key ", show(key))};
        }
        break;
      }
      default:
        break;
    }
    return true;  // keep every value
  };
  try {
    return Json::parse(text.begin(), text.end(), callback);
  } catch (const ParseAbort& abort) {
    return err.invalid("safetensors header: ", abort.reason);
  } catch (const Json::exception& e) {
    return err.invalid("safetensors header is not valid JSON: ", e.what());
  }
}

// Reads a JSON number that must be a non-negative integer fitting in int64.
bool as_index(const Json& v, uint64_t* out) {
  if (v.is_number_unsigned()) {
    *out = v.get<uint64_t>();
  } else if (v.is_number_integer() && v.get<int64_t>() >= 0) {
    *out = static_cast<uint64_t>(v.get<int64_t>());
  } else {
    return false;
  }
  return *out <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
}

// Validates one tensor entry and fills `info` (name already set).
absl::Status parse_entry(const Json& entry, SafetensorsTensorInfo* info, const Errors& err) {
  const std::string who = "tensor " + show(info->name);
  if (!entry.is_object()) {
    return err.invalid(who, ": entry is a JSON ", entry.type_name(), ", expected an object");
  }
  for (const char* field : {"dtype", "shape", "data_offsets"}) {
    if (!entry.contains(field)) return err.invalid(who, ": missing \"", field, "\"");
  }

  const Json& dtype = entry.at("dtype");
  if (!dtype.is_string()) {
    return err.invalid(who, ": \"dtype\" is a JSON ", dtype.type_name(), ", expected a string");
  }
  const auto parsed_dtype = dtype_from_safetensors_string(dtype.get_ref<const std::string&>());
  if (!parsed_dtype) {
    std::vector<std::string> known;
    for (const auto& d : kDTypeStrings) known.push_back(d.text);
    return err.invalid(who, ": unknown dtype ", show(dtype.get_ref<const std::string&>()),
                       " (known: ", absl::StrJoin(known, " "), ")");
  }
  info->dtype = *parsed_dtype;

  const Json& shape = entry.at("shape");
  if (!shape.is_array()) {
    return err.invalid(who, ": \"shape\" is a JSON ", shape.type_name(), ", expected an array");
  }
  // numel must fit in int64, and so must every contiguous stride, i.e. the product of the
  // dims with zeros counted as one (a [0, 2^40, 2^40] tensor is empty but has huge strides).
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  uint64_t numel = 1, span = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    uint64_t dim = 0;
    if (!as_index(shape[i], &dim)) {
      return err.invalid(who, ": shape entry ", i, " is ", brief(shape[i]),
                         ", expected a non-negative integer");
    }
    const uint64_t factor = std::max<uint64_t>(dim, 1);
    if (span > kMax / factor) {
      return err.invalid(who, ": shape ", brief(shape), " overflows the element count");
    }
    span *= factor;
    numel *= dim;  // <= span, cannot overflow
    info->shape.push_back(static_cast<int64_t>(dim));
  }
  const uint64_t itemsize = dtype_size(info->dtype);
  if (numel > kMax / itemsize) {
    return err.invalid(who, ": shape ", brief(shape), " overflows the byte count");
  }

  const Json& offsets = entry.at("data_offsets");
  uint64_t begin = 0, end = 0;
  if (!offsets.is_array() || offsets.size() != 2 || !as_index(offsets[0], &begin) ||
      !as_index(offsets[1], &end)) {
    return err.invalid(who, ": \"data_offsets\" is ", brief(offsets),
                       ", expected [begin, end] with non-negative integers");
  }
  if (begin > end) {
    return err.invalid(who, ": data_offsets [", begin, ", ", end, "] has begin > end");
  }
  info->begin = begin;
  info->end = end;
  if (numel * itemsize != end - begin) {
    return err.invalid(who, ": dtype ", safetensors_dtype_string(info->dtype), " with shape ",
                       shape_text(info->shape), " needs ", numel * itemsize,
                       " bytes but data_offsets [", begin, ", ", end, "] span ", end - begin);
  }
  return absl::OkStatus();
}

absl::Status parse_metadata(const Json& value, std::map<std::string, std::string>* out,
                            const Errors& err) {
  if (!value.is_object()) {
    return err.invalid("\"__metadata__\" is a JSON ", value.type_name(),
                       ", expected an object of strings");
  }
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (!it.value().is_string()) {
      return err.invalid("\"__metadata__\" value for key ", show(it.key()), " is a JSON ",
                         it.value().type_name(), ", expected a string");
    }
    (*out)[it.key()] = it.value().get<std::string>();
  }
  return absl::OkStatus();
}

// Checks that every tensor lies inside the data buffer and that no two share bytes.
absl::Status check_layout(const SafetensorsHeader& header, const Errors& err) {
  for (const auto& t : header.tensors) {
    if (t.end > header.data_size) {
      return err.data_loss("tensor ", show(t.name), ": data_offsets [", t.begin, ", ", t.end,
                           "] extend beyond the data buffer of ", header.data_size,
                           " bytes (file truncated?)");
    }
  }
  const SafetensorsTensorInfo* furthest = nullptr;  // non-empty tensor with the largest end
  for (const auto& t : header.tensors) {            // sorted by begin
    if (t.begin == t.end) continue;                 // empty tensors own no bytes
    if (furthest != nullptr && t.begin < furthest->end) {
      return err.invalid("tensors ", show(furthest->name), " [", furthest->begin, ", ",
                         furthest->end, ") and ", show(t.name), " [", t.begin, ", ", t.end,
                         ") overlap in the data buffer");
    }
    if (furthest == nullptr || t.end > furthest->end) furthest = &t;
  }
  return absl::OkStatus();
}

}  // namespace

const char* safetensors_dtype_string(DType dtype) {
  for (const auto& d : kDTypeStrings) {
    if (d.dtype == dtype) return d.text;
  }
  return "?";
}

std::optional<DType> dtype_from_safetensors_string(std::string_view text) {
  for (const auto& d : kDTypeStrings) {
    if (text == d.text) return d.dtype;
  }
  return std::nullopt;
}

absl::StatusOr<SafetensorsHeader> parse_safetensors(const void* data, size_t size,
                                                    std::string_view source) {
  const Errors err(source);
  const auto* bytes = static_cast<const unsigned char*>(data);
  if (size < 8) {
    return err.data_loss("file is ", size,
                         " bytes, shorter than the 8-byte safetensors header length");
  }
  const uint64_t header_len = read_le64(bytes);
  if (header_len > kSafetensorsMaxHeaderBytes) {
    return err.invalid("safetensors header length ", header_len, " exceeds the limit of ",
                       kSafetensorsMaxHeaderBytes, " bytes");
  }
  if (header_len > size - 8) {
    return err.data_loss("safetensors header length ", header_len, " exceeds the ", size - 8,
                         " bytes that follow it (file truncated?)");
  }
  auto json = parse_json(
      std::string_view(reinterpret_cast<const char*>(bytes + 8), static_cast<size_t>(header_len)),
      err);
  if (!json.ok()) return json.status();
  if (!json->is_object()) {
    return err.invalid("safetensors header is a JSON ", json->type_name(), ", expected an object");
  }

  SafetensorsHeader header;
  header.data_start = 8 + header_len;
  header.data_size = size - header.data_start;
  for (auto it = json->begin(); it != json->end(); ++it) {
    if (it.key() == kMetadataKey) {
      if (auto s = parse_metadata(it.value(), &header.metadata, err); !s.ok()) return s;
      continue;
    }
    SafetensorsTensorInfo info;
    info.name = it.key();
    if (auto s = parse_entry(it.value(), &info, err); !s.ok()) return s;
    header.tensors.push_back(std::move(info));
  }
  std::sort(header.tensors.begin(), header.tensors.end(), [](const auto& a, const auto& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  if (auto s = check_layout(header, err); !s.ok()) return s;
  return header;
}

absl::StatusOr<std::string> encode_safetensors_header(
    const std::vector<SafetensorsTensorInfo>& tensors,
    const std::map<std::string, std::string>& metadata) {
  Json root = Json::object();
  for (const auto& t : tensors) {
    if (t.name == kMetadataKey) {
      return absl::InvalidArgumentError("safetensors: '__metadata__' is reserved, not a name");
    }
    if (root.contains(t.name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("safetensors: tensor name ", show(t.name), " appears twice"));
    }
    root[t.name] = Json{{"dtype", safetensors_dtype_string(t.dtype)},
                        {"shape", t.shape},
                        {"data_offsets", {t.begin, t.end}}};
  }
  if (!metadata.empty()) root[kMetadataKey] = metadata;
  std::string text;
  try {
    text = root.dump();
  } catch (const Json::exception& e) {  // strings that are not valid UTF-8
    return absl::InvalidArgumentError(absl::StrCat(
        "safetensors: a tensor name or metadata string is not valid UTF-8: ", e.what()));
  }
  // 8 + N is a multiple of 8 exactly when N is, so the data buffer starts 8-byte aligned.
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i, n >>= 8) out[i] = static_cast<char>(n & 0xff);
  return out + text;
}

}  // namespace chorus
