// BPE training with incremental pair counts: after each merge only the chunks that contained
// the merged pair are revisited, so a step costs what those chunks cost rather than a pass
// over the whole corpus (tests compare against a naive recount-everything reference).
#include <set>
#include <tuple>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "modalities/text/tokenizer.h"

namespace chorus::text {
namespace {

uint64_t key(int64_t a, int64_t b) { return (static_cast<uint64_t>(a) << 32) | uint64_t(b); }
int64_t left(uint64_t k) { return static_cast<int64_t>(k >> 32); }
int64_t right(uint64_t k) { return static_cast<int64_t>(k & 0xffffffffu); }

struct Word {
  std::vector<int64_t> syms;
  int64_t count;
};

class PairTable {
 public:
  // Adds `delta` occurrences of pair k, found in word w.
  void add(uint64_t k, int64_t delta, int64_t w) {
    int64_t& c = counts_[k];
    if (c > 0) order_.erase({-c, left(k), right(k)});
    c += delta;
    if (c > 0) order_.insert({-c, left(k), right(k)});
    if (delta > 0) words_[k].insert(w);
  }
  // The most frequent pair (ties: smallest ids) and its count; count 0 when none is left.
  std::pair<uint64_t, int64_t> best() const {
    if (order_.empty()) return {0, 0};
    const auto& [neg, a, b] = *order_.begin();
    return {key(a, b), -neg};
  }
  // Words that contained k at some point (a superset of those containing it now).
  std::set<int64_t> take_words(uint64_t k) {
    auto it = words_.find(k);
    if (it == words_.end()) return {};
    std::set<int64_t> out = std::move(it->second);
    words_.erase(it);
    return out;
  }

 private:
  std::unordered_map<uint64_t, int64_t> counts_;
  std::set<std::tuple<int64_t, int64_t, int64_t>> order_;
  std::unordered_map<uint64_t, std::set<int64_t>> words_;
};

void add_pairs(const Word& word, int64_t sign, int64_t w, PairTable& table) {
  for (size_t i = 0; i + 1 < word.syms.size(); ++i) {
    table.add(key(word.syms[i], word.syms[i + 1]), sign * word.count, w);
  }
}

}  // namespace

void count_chunks(std::string_view text, ChunkCounts& counts) {
  for (std::string_view chunk : pretokenize(text)) ++counts[std::string(chunk)];
}

absl::StatusOr<Tokenizer> train_bpe(const ChunkCounts& counts, const TrainOptions& options) {
  if (options.vocab_size < kByteVocab) {
    return absl::InvalidArgumentError(absl::StrCat("vocab size ", options.vocab_size,
                                                   " is below the ", kByteVocab,
                                                   " special and byte tokens"));
  }
  if (options.vocab_size > (int64_t{1} << 31)) {
    return absl::InvalidArgumentError(
        absl::StrCat("vocab size ", options.vocab_size, " is too large"));
  }
  std::vector<Word> words;
  words.reserve(counts.size());
  for (const auto& [chunk, count] : counts) {
    if (count <= 0 || chunk.size() < 2) continue;  // single bytes have no pairs
    Word w{{}, count};
    for (char c : chunk) w.syms.push_back(kByteOffset + static_cast<unsigned char>(c));
    words.push_back(std::move(w));
  }
  PairTable table;
  for (size_t w = 0; w < words.size(); ++w) add_pairs(words[w], +1, static_cast<int64_t>(w), table);

  std::vector<Merge> merges;
  const int64_t min_frequency = std::max<int64_t>(options.min_frequency, 1);
  while (kByteVocab + static_cast<int64_t>(merges.size()) < options.vocab_size) {
    const auto [k, count] = table.best();
    if (count < min_frequency) break;
    const int64_t a = left(k), b = right(k);
    const int64_t merged = kByteVocab + static_cast<int64_t>(merges.size());
    merges.emplace_back(a, b);
    for (int64_t w : table.take_words(k)) {
      Word& word = words[static_cast<size_t>(w)];
      add_pairs(word, -1, w, table);
      size_t out = 0;
      for (size_t i = 0; i < word.syms.size(); ++i) {
        if (i + 1 < word.syms.size() && word.syms[i] == a && word.syms[i + 1] == b) {
          word.syms[out++] = merged;
          ++i;
        } else {
          word.syms[out++] = word.syms[i];
        }
      }
      word.syms.resize(out);
      add_pairs(word, +1, w, table);
    }
  }
  return Tokenizer::from_merges(std::move(merges));
}

}  // namespace chorus::text
