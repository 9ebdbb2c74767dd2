// Byte-level BPE tokenizer, trained and saved by Chorus (`chorus tokenizer train`).
//
// Why our own BPE rather than SentencePiece: byte-level BPE covers every UTF-8 (indeed every
// byte) string with no unknown token, so round trips are exact; training and encoding are a
// few hundred lines we test against a naive reference; the saved file is a small JSON of merge
// pairs; and the text plugin then depends on nothing beyond the engine (libsentencepiece-dev
// would be one more shared library every plugin user must install, for captions a few words
// long). The algorithm is GPT-2's (Sennrich et al. 2016 on bytes, Radford et al. 2019).
//
// Vocabulary (ids are fixed by construction, the JSON stores only the merges):
//   0 <pad>, 1 <bos> (also the CLS token), 2 <eos>     the special tokens
//   3 .. 258                                           the 256 bytes (id = 3 + byte)
//   259 + i                                            merge i: the concatenation of its pair
//
// Pre-tokenization splits text into chunks that merges never cross (see pretokenize()); the
// chunks concatenate back to the text, so decode(encode(s)) == s for every byte string s.
// Encoding applies merges lowest rank first, exactly as training learned them, and is a pure
// function of (merges, text): deterministic and thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace chorus::text {

inline constexpr int64_t kPadId = 0;
inline constexpr int64_t kBosId = 1;
inline constexpr int64_t kEosId = 2;
inline constexpr int64_t kNumSpecial = 3;
inline constexpr int64_t kByteOffset = kNumSpecial;
inline constexpr int64_t kByteVocab = kNumSpecial + 256;  // vocabulary without merges

using Merge = std::pair<int64_t, int64_t>;

// GPT-2-style pre-tokenization without a regex engine. A chunk is one of
//   - an optional single leading space + a run of letters (ASCII letters and every byte >= 0x80,
//     so multi-byte UTF-8 characters stay inside words),
//   - an optional single leading space + a run of digits,
//   - an optional single leading space + a run of other (punctuation) bytes,
//   - a run of whitespace (leaving its last space to the word that follows it).
// The chunks are views into `text` and concatenate back to it.
std::vector<std::string_view> pretokenize(std::string_view text);

struct EncodeOptions {
  bool add_bos = true;
  bool add_eos = true;
  // Total length including BOS/EOS; 0 = no limit. Longer texts are truncated at the end,
  // keeping the EOS.
  int64_t max_length = 0;
};

class Tokenizer {
 public:
  // The byte-level tokenizer without merges (vocabulary 259).
  Tokenizer() : Tokenizer(std::vector<Merge>{}) {}
  // Throws chorus::Error if a merge refers to an id it cannot (see from_json); use
  // from_merges for untrusted input.
  explicit Tokenizer(std::vector<Merge> merges);
  static absl::StatusOr<Tokenizer> from_merges(std::vector<Merge> merges);

  int64_t vocab_size() const { return kByteVocab + static_cast<int64_t>(merges_.size()); }
  const std::vector<Merge>& merges() const { return merges_; }

  // Token ids of `text` with no special tokens.
  std::vector<int64_t> encode(std::string_view text) const;
  // With BOS/EOS and truncation. Throws chorus::Error if max_length leaves no room for one
  // content token.
  std::vector<int64_t> encode(std::string_view text, const EncodeOptions& options) const;
  // The bytes of `ids`; special tokens are skipped. An id outside the vocabulary is an error.
  absl::StatusOr<std::string> decode(const std::vector<int64_t>& ids) const;
  // The bytes token `id` stands for ("" for special tokens).
  const std::string& token_bytes(int64_t id) const { return bytes_.at(static_cast<size_t>(id)); }

  nlohmann::json to_json() const;
  // `what` names the source in errors (a file path).
  static absl::StatusOr<Tokenizer> from_json(const nlohmann::json& j, const std::string& what);
  absl::Status save(const std::string& path) const;
  static absl::StatusOr<Tokenizer> load(const std::string& path);

 private:
  void encode_chunk(std::string_view chunk, std::vector<int64_t>& out) const;

  std::vector<Merge> merges_;
  std::vector<std::string> bytes_;              // per id
  std::unordered_map<uint64_t, int64_t> rank_;  // pair key -> merge index
};

// ---- Training (tokenizer_train.cc).

// How often each pre-tokenized chunk occurs: the only statistic BPE training needs.
using ChunkCounts = std::map<std::string, int64_t>;
void count_chunks(std::string_view text, ChunkCounts& counts);

struct TrainOptions {
  int64_t vocab_size = 4096;  // total, including the 259 special and byte tokens
  int64_t min_frequency = 2;  // stop when the best pair occurs fewer times than this
};

// Learns merges until the vocabulary reaches options.vocab_size or no pair is frequent enough.
// Each step merges the most frequent adjacent pair (counted over chunks weighted by their
// counts); ties go to the smallest (left id, right id), so training is deterministic.
// Occurrences are merged left to right without overlap. Pair counts are updated incrementally
// (only chunks containing the merged pair are revisited).
absl::StatusOr<Tokenizer> train_bpe(const ChunkCounts& counts, const TrainOptions& options);

}  // namespace chorus::text
