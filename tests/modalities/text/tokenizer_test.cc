// Byte-level BPE: pre-tokenization, exact round trips, training against a naive reference,
// encoding against a naive reference, truncation, save/load and corrupt files.
#include "modalities/text/tokenizer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "core/tensor/error.h"
#include "core/tensor/philox.h"

namespace chorus::text {
namespace {

// ---- Naive references (recount everything, apply merges one by one).

std::vector<int64_t> bytes_of(std::string_view s) {
  std::vector<int64_t> v;
  for (char c : s) v.push_back(kByteOffset + static_cast<unsigned char>(c));
  return v;
}

void merge_all(std::vector<int64_t>& syms, const Merge& m, int64_t id) {
  std::vector<int64_t> out;
  for (size_t i = 0; i < syms.size(); ++i) {
    if (i + 1 < syms.size() && syms[i] == m.first && syms[i + 1] == m.second) {
      out.push_back(id);
      ++i;
    } else {
      out.push_back(syms[i]);
    }
  }
  syms = out;
}

std::vector<Merge> naive_train(const ChunkCounts& counts, int64_t vocab_size, int64_t min_freq) {
  std::vector<std::pair<std::vector<int64_t>, int64_t>> words;
  for (const auto& [chunk, n] : counts) words.push_back({bytes_of(chunk), n});
  std::vector<Merge> merges;
  while (kByteVocab + static_cast<int64_t>(merges.size()) < vocab_size) {
    std::map<Merge, int64_t> pairs;  // ordered by (a, b): the first max wins ties
    for (const auto& [syms, n] : words) {
      for (size_t i = 0; i + 1 < syms.size(); ++i) pairs[{syms[i], syms[i + 1]}] += n;
    }
    Merge best{-1, -1};
    int64_t best_count = 0;
    for (const auto& [p, c] : pairs) {
      if (c > best_count) best = p, best_count = c;
    }
    if (best_count < min_freq) break;
    const int64_t id = kByteVocab + static_cast<int64_t>(merges.size());
    merges.push_back(best);
    for (auto& [syms, n] : words) merge_all(syms, best, id);
  }
  return merges;
}

std::vector<int64_t> naive_encode(const std::vector<Merge>& merges, std::string_view text) {
  std::vector<int64_t> out;
  for (std::string_view chunk : pretokenize(text)) {
    std::vector<int64_t> syms = bytes_of(chunk);
    for (size_t r = 0; r < merges.size(); ++r) merge_all(syms, merges[r], kByteVocab + r);
    out.insert(out.end(), syms.begin(), syms.end());
  }
  return out;
}

// ---- Corpora.

const std::vector<std::string>& captions() {
  static const std::vector<std::string> c = {
      "a photo of a sandal",    "a photo of a sneaker",  "a grey ankle boot",
      "a photo of a t-shirt",   "a white shirt",         "a black ankle boot!",
      "a pair of trousers",     "a photo of a bag",      "a dress, 2 sizes",
      "a pullover  and a coat", "aaaa aaa aa a",         "naïve café — déjà vu",
      "\tmixed\nwhite   space", "numbers 12345 and 678", "über straße 東京 🙂",
  };
  return c;
}

// Random words over a tiny alphabet: many tied pair counts and overlapping runs ("aaa").
std::vector<std::string> random_corpus(uint64_t seed, int n) {
  std::vector<std::string> out;
  const std::string alphabet = "aab c.1";
  uint64_t k = 0;
  for (int i = 0; i < n; ++i) {
    std::string s;
    const int len = 1 + philox_word(seed, 0, k++) % 12;
    for (int j = 0; j < len; ++j) s += alphabet[philox_word(seed, 0, k++) % alphabet.size()];
    out.push_back(s);
  }
  return out;
}

ChunkCounts count_all(const std::vector<std::string>& texts) {
  ChunkCounts counts;
  for (const auto& t : texts) count_chunks(t, counts);
  return counts;
}

Tokenizer trained(int64_t vocab = 400) {
  TrainOptions o;
  o.vocab_size = vocab;
  o.min_frequency = 2;
  auto tok = train_bpe(count_all(captions()), o);
  EXPECT_TRUE(tok.ok()) << tok.status();
  return *tok;
}

// ---- Tests.

TEST(Pretokenize, SplitsWordsWithTheirLeadingSpace) {
  const std::string s = "a photo of  a sandal!! 42x\n\nok";
  std::vector<std::string> got;
  for (auto c : pretokenize(s)) got.emplace_back(c);
  const std::vector<std::string> want = {"a",  " photo", " of", " ",    " a", " sandal",
                                         "!!", " 42",    "x",   "\n\n", "ok"};
  EXPECT_EQ(got, want);
}

TEST(Pretokenize, ChunksConcatenateBackToAnyBytes) {
  for (int trial = 0; trial < 50; ++trial) {
    std::string s;
    for (int i = 0; i < 40; ++i) s += static_cast<char>(philox_word(17, trial, i) & 0xff);
    std::string joined;
    for (auto c : pretokenize(s)) joined += c;
    EXPECT_EQ(joined, s);
  }
}

TEST(Tokenizer, ByteLevelHasFixedIds) {
  Tokenizer t;
  EXPECT_EQ(t.vocab_size(), 259);
  EXPECT_EQ(t.encode("Ab"), (std::vector<int64_t>{3 + 'A', 3 + 'b'}));
  EXPECT_EQ(t.encode("", EncodeOptions{}), (std::vector<int64_t>{kBosId, kEosId}));
}

TEST(Tokenizer, RoundTripsArbitraryUtf8AndBytes) {
  const Tokenizer t = trained();
  ASSERT_GT(t.merges().size(), 20u);
  for (const std::string& s : captions()) {
    auto back = t.decode(t.encode(s, EncodeOptions{}));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, s);
    EXPECT_LT(t.encode(s).size(), s.size()) << "merges should shorten a training caption: " << s;
  }
  for (int trial = 0; trial < 100; ++trial) {  // random bytes, valid UTF-8 or not
    std::string s;
    const int len = philox_word(5, trial, 999) % 64;
    for (int i = 0; i < len; ++i) s += static_cast<char>(philox_word(5, trial, i) & 0xff);
    auto back = t.decode(t.encode(s));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, s);
  }
}

TEST(Tokenizer, TrainingMatchesNaiveReference) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    std::vector<std::string> texts = random_corpus(seed, 300);
    texts.insert(texts.end(), captions().begin(), captions().end());
    const ChunkCounts counts = count_all(texts);
    for (int64_t min_freq : {1, 2, 5}) {
      TrainOptions o;
      o.vocab_size = 259 + 120;
      o.min_frequency = min_freq;
      auto tok = train_bpe(counts, o);
      ASSERT_TRUE(tok.ok()) << tok.status();
      EXPECT_EQ(tok->merges(), naive_train(counts, o.vocab_size, min_freq))
          << "seed " << seed << " min_frequency " << min_freq;
    }
  }
}

TEST(Tokenizer, HandComputedMerges) {
  // "aaab" x1: pairs (a,a)=2 (a,b)=1 -> merge (a,a) = 259: [259, a, b] -> pairs (259,a)=1,
  // (a,b)=1, tie -> the smaller ids (a=100, b=101) win: (a,b) = 260.
  ChunkCounts counts{{"aaab", 1}};
  TrainOptions o;
  o.vocab_size = 261;
  o.min_frequency = 1;
  auto tok = train_bpe(counts, o);
  ASSERT_TRUE(tok.ok());
  const int64_t a = 3 + 'a', b = 3 + 'b';
  EXPECT_EQ(tok->merges(), (std::vector<Merge>{{a, a}, {a, b}}));
  EXPECT_EQ(tok->encode("aaab"), (std::vector<int64_t>{259, 260}));
  EXPECT_EQ(tok->token_bytes(260), "ab");
}

TEST(Tokenizer, EncodingMatchesNaiveReference) {
  const Tokenizer t = trained();
  std::vector<std::string> texts = random_corpus(9, 200);
  texts.insert(texts.end(), captions().begin(), captions().end());
  for (const std::string& s : texts) EXPECT_EQ(t.encode(s), naive_encode(t.merges(), s)) << s;
}

TEST(Tokenizer, TrainingIsDeterministicAndStopsAtMinFrequency) {
  TrainOptions o;
  o.vocab_size = 100000;
  const ChunkCounts counts = count_all(captions());
  auto a = train_bpe(counts, o), b = train_bpe(counts, o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->to_json().dump(), b->to_json().dump());
  EXPECT_LT(a->vocab_size(), 100000);  // ran out of pairs occurring twice
  o.vocab_size = 100;
  EXPECT_FALSE(train_bpe(counts, o).ok());
}

TEST(Tokenizer, TruncationKeepsBosAndEos) {
  const Tokenizer t;
  EncodeOptions o;
  o.max_length = 5;
  EXPECT_EQ(t.encode("abcdef", o),
            (std::vector<int64_t>{kBosId, 3 + 'a', 3 + 'b', 3 + 'c', kEosId}));
  o.add_bos = false;
  EXPECT_EQ(t.encode("abcdef", o),
            (std::vector<int64_t>{3 + 'a', 3 + 'b', 3 + 'c', 3 + 'd', kEosId}));
  EXPECT_EQ(t.encode("ab", o), (std::vector<int64_t>{3 + 'a', 3 + 'b', kEosId}));
  o.add_bos = true;
  o.max_length = 2;
  EXPECT_THROW(t.encode("ab", o), chorus::Error);
  auto bad = t.decode({1, 300});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("id 300"), std::string::npos);
}

class TokenizerFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("chorus_tok_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& content) {
    const std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  std::filesystem::path dir_;
};

TEST_F(TokenizerFile, SaveLoadRoundTrip) {
  const Tokenizer t = trained();
  const std::string path = (dir_ / "tok.json").string();
  ASSERT_TRUE(t.save(path).ok());
  auto loaded = Tokenizer::load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->merges(), t.merges());
  EXPECT_EQ(loaded->vocab_size(), t.vocab_size());
  for (const std::string& s : captions()) EXPECT_EQ(loaded->encode(s), t.encode(s));
}

TEST_F(TokenizerFile, CorruptFilesGiveClearErrors) {
  auto expect_error = [&](const std::string& content, const std::string& needle) {
    const std::string p = write("bad.json", content);
    auto r = Tokenizer::load(p);
    ASSERT_FALSE(r.ok()) << content;
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(p), std::string::npos) << r.status().message();
  };
  nlohmann::json good = Tokenizer().to_json();
  expect_error("{not json", "invalid JSON");
  expect_error("[]", "JSON object");
  nlohmann::json j = good;
  j["format"] = "sentencepiece";
  expect_error(j.dump(), "format");
  j = good;
  j["merges"] = {{3, 300}};  // refers to a token that does not exist yet
  j["vocab_size"] = 260;
  expect_error(j.dump(), "merge 0");
  j = good;
  j["merges"] = {{0, 3}};  // a special token cannot be merged
  j["vocab_size"] = 260;
  expect_error(j.dump(), "merge 0");
  j = good;
  j["merges"] = {"ab"};
  expect_error(j.dump(), "not a pair");
  j = good;
  j["vocab_size"] = 1000;
  expect_error(j.dump(), "vocab_size");
  auto missing = Tokenizer::load((dir_ / "nope.json").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope.json"), std::string::npos);
}

}  // namespace
}  // namespace chorus::text
