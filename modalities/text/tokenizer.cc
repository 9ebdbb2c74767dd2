#include "modalities/text/tokenizer.h"

#include <fstream>
#include <limits>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "core/tensor/error.h"

namespace chorus::text {
namespace {

enum class CharClass { kLetter, kDigit, kSpace, kOther };

CharClass classify(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80) return CharClass::kLetter;
  if (c >= '0' && c <= '9') return CharClass::kDigit;
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
    return CharClass::kSpace;
  }
  return CharClass::kOther;
}

uint64_t pair_key(int64_t a, int64_t b) {
  return (static_cast<uint64_t>(a) << 32) | static_cast<uint64_t>(b);
}

absl::Status check_merges(const std::vector<Merge>& merges) {
  for (size_t i = 0; i < merges.size(); ++i) {
    const int64_t limit = kByteVocab + static_cast<int64_t>(i);  // ids defined before merge i
    for (int64_t id : {merges[i].first, merges[i].second}) {
      if (id < kByteOffset || id >= limit) {
        return absl::InvalidArgumentError(absl::StrCat(
            "merge ", i, " (", merges[i].first, ", ", merges[i].second, ") refers to id ", id,
            ", which must be a byte or earlier merge in [", kByteOffset, ", ", limit, ")"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string_view> pretokenize(std::string_view text) {
  std::vector<std::string_view> chunks;
  const size_t n = text.size();
  auto cls = [&](size_t i) { return classify(static_cast<unsigned char>(text[i])); };
  size_t i = 0;
  while (i < n) {
    size_t start = i;
    if (text[i] == ' ' && i + 1 < n && cls(i + 1) != CharClass::kSpace) {
      ++i;  // the space joins the run that follows
    } else if (cls(i) == CharClass::kSpace) {
      size_t j = i;
      while (j < n && cls(j) == CharClass::kSpace) ++j;
      // Leave a final ' ' to the word after the run (GPT-2's \s+(?!\S)).
      if (j < n && j - i > 1 && text[j - 1] == ' ') --j;
      chunks.push_back(text.substr(start, j - start));
      i = j;
      continue;
    }
    const CharClass c = cls(i);
    while (i < n && cls(i) == c) ++i;
    chunks.push_back(text.substr(start, i - start));
  }
  return chunks;
}

Tokenizer::Tokenizer(std::vector<Merge> merges) : merges_(std::move(merges)) {
  const absl::Status ok = check_merges(merges_);
  CHORUS_CHECK(ok.ok(), "tokenizer: ", std::string(ok.message()));
  bytes_.assign(static_cast<size_t>(kNumSpecial), std::string());
  for (int b = 0; b < 256; ++b) bytes_.push_back(std::string(1, static_cast<char>(b)));
  for (size_t i = 0; i < merges_.size(); ++i) {
    const auto [a, b] = merges_[i];
    bytes_.push_back(bytes_[static_cast<size_t>(a)] + bytes_[static_cast<size_t>(b)]);
    // A pair learned twice keeps its first (lowest) rank; the later duplicate is unreachable.
    rank_.emplace(pair_key(a, b), static_cast<int64_t>(i));
  }
}

absl::StatusOr<Tokenizer> Tokenizer::from_merges(std::vector<Merge> merges) {
  if (auto s = check_merges(merges); !s.ok()) return s;
  return Tokenizer(std::move(merges));
}

void Tokenizer::encode_chunk(std::string_view chunk, std::vector<int64_t>& out) const {
  std::vector<int64_t> syms;
  syms.reserve(chunk.size());
  for (char c : chunk) syms.push_back(kByteOffset + static_cast<unsigned char>(c));
  // Repeatedly merge every occurrence of the lowest-ranked pair present, left to right: the
  // order training learned them in, so a training chunk is segmented as training left it.
  while (syms.size() > 1 && !rank_.empty()) {
    int64_t best = std::numeric_limits<int64_t>::max();
    for (size_t k = 0; k + 1 < syms.size(); ++k) {
      auto it = rank_.find(pair_key(syms[k], syms[k + 1]));
      if (it != rank_.end() && it->second < best) best = it->second;
    }
    if (best == std::numeric_limits<int64_t>::max()) break;
    const auto [a, b] = merges_[static_cast<size_t>(best)];
    const int64_t merged = kByteVocab + best;
    size_t w = 0;
    for (size_t k = 0; k < syms.size(); ++k) {
      if (k + 1 < syms.size() && syms[k] == a && syms[k + 1] == b) {
        syms[w++] = merged;
        ++k;
      } else {
        syms[w++] = syms[k];
      }
    }
    syms.resize(w);
  }
  out.insert(out.end(), syms.begin(), syms.end());
}

std::vector<int64_t> Tokenizer::encode(std::string_view text) const {
  std::vector<int64_t> ids;
  for (std::string_view chunk : pretokenize(text)) encode_chunk(chunk, ids);
  return ids;
}

std::vector<int64_t> Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  const int64_t specials = (options.add_bos ? 1 : 0) + (options.add_eos ? 1 : 0);
  CHORUS_CHECK(options.max_length == 0 || options.max_length > specials, "tokenizer: max_length ",
               options.max_length, " leaves no room for text beside ", specials,
               " special token(s)");
  std::vector<int64_t> content = encode(text);
  if (options.max_length > 0 &&
      static_cast<int64_t>(content.size()) > options.max_length - specials) {
    content.resize(static_cast<size_t>(options.max_length - specials));
  }
  std::vector<int64_t> ids;
  ids.reserve(content.size() + 2);
  if (options.add_bos) ids.push_back(kBosId);
  ids.insert(ids.end(), content.begin(), content.end());
  if (options.add_eos) ids.push_back(kEosId);
  return ids;
}

absl::StatusOr<std::string> Tokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= vocab_size()) {
      return absl::InvalidArgumentError(absl::StrCat("tokenizer: id ", ids[i], " at position ", i,
                                                     " is outside the vocabulary [0, ",
                                                     vocab_size(), ")"));
    }
    out += bytes_[static_cast<size_t>(ids[i])];
  }
  return out;
}

nlohmann::json Tokenizer::to_json() const {
  nlohmann::json merges = nlohmann::json::array();
  for (const auto& [a, b] : merges_) merges.push_back({a, b});
  return {
      {"format", "chorus-byte-bpe"},
      {"version", 1},
      {"pretokenizer", "chorus-v1"},
      {"special_tokens", {{"<pad>", kPadId}, {"<bos>", kBosId}, {"<eos>", kEosId}}},
      {"byte_offset", kByteOffset},
      {"vocab_size", vocab_size()},
      {"merges", merges},
  };
}

absl::StatusOr<Tokenizer> Tokenizer::from_json(const nlohmann::json& j, const std::string& what) {
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": not a Chorus tokenizer: ", why));
  };
  if (!j.is_object()) return bad("expected a JSON object");
  if (j.value("format", nlohmann::json()) != "chorus-byte-bpe") {
    return bad("\"format\" must be \"chorus-byte-bpe\"");
  }
  if (j.value("version", nlohmann::json()) != 1) return bad("unsupported \"version\" (want 1)");
  if (j.value("pretokenizer", nlohmann::json()) != "chorus-v1") {
    return bad("unsupported \"pretokenizer\" (want \"chorus-v1\")");
  }
  if (j.value("byte_offset", nlohmann::json()) != kByteOffset) {
    return bad(absl::StrCat("\"byte_offset\" must be ", kByteOffset));
  }
  const nlohmann::json& m = j.contains("merges") ? j["merges"] : nlohmann::json();
  if (!m.is_array()) return bad("\"merges\" must be an array of [left, right] id pairs");
  std::vector<Merge> merges;
  merges.reserve(m.size());
  for (size_t i = 0; i < m.size(); ++i) {
    if (!m[i].is_array() || m[i].size() != 2 || !m[i][0].is_number_integer() ||
        !m[i][1].is_number_integer()) {
      return bad(absl::StrCat("merge ", i, " is not a pair of integers: ", m[i].dump()));
    }
    merges.emplace_back(m[i][0].get<int64_t>(), m[i][1].get<int64_t>());
  }
  if (auto s = check_merges(merges); !s.ok()) return bad(std::string(s.message()));
  Tokenizer tok(std::move(merges));
  if (j.contains("vocab_size") && j["vocab_size"] != tok.vocab_size()) {
    return bad(absl::StrCat("\"vocab_size\" ", j["vocab_size"].dump(), " does not match the ",
                            tok.vocab_size(), " its merges give"));
  }
  return tok;
}

absl::Status Tokenizer::save(const std::string& path) const {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) return absl::PermissionDeniedError(absl::StrCat(path, ": cannot open for writing"));
  f << to_json().dump() << "\n";
  f.close();
  if (!f) return absl::DataLossError(absl::StrCat(path, ": write failed"));
  return absl::OkStatus();
}

absl::StatusOr<Tokenizer> Tokenizer::load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::NotFoundError(absl::StrCat(path, ": cannot open tokenizer file"));
  std::stringstream ss;
  ss << f.rdbuf();
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(path, ": invalid JSON"));
  return from_json(j, path);
}

}  // namespace chorus::text
