// The text decoder and collator: ids with BOS/EOS, truncation, UTF-8 checking, files, padding.
#include "modalities/text/decoder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace chorus::text {
namespace {

std::unique_ptr<plugin::Decoder> make(const plugin::Options& options = nlohmann::json::object()) {
  auto d = make_text_decoder(options);
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? std::move(*d) : nullptr;
}

std::vector<int64_t> ids_of(const data::Sample& s) {
  return s.tensors.at("ids").to_vector<int64_t>();
}

TEST(TextDecoder, DecodesCaptionToIdsWithBosEos) {
  auto d = make();
  auto s = d->decode_bytes("a bag", {});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(ids_of(*s),
            (std::vector<int64_t>{kBosId, 3 + 'a', 3 + ' ', 3 + 'b', 3 + 'a', 3 + 'g', kEosId}));
  EXPECT_EQ(s->metadata["text"], "a bag");
  EXPECT_EQ(s->metadata["length"], 7);
  EXPECT_EQ(s->metadata["truncated"], false);
}

TEST(TextDecoder, TruncatesToMaxLength) {
  auto d = make({{"max_length", 4}, {"add_bos", false}});
  auto s = d->decode_bytes("abcdef", {});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(ids_of(*s), (std::vector<int64_t>{3 + 'a', 3 + 'b', 3 + 'c', kEosId}));
  EXPECT_EQ(s->metadata["truncated"], true);
}

TEST(TextDecoder, RejectsInvalidUtf8AndEmptyText) {
  auto d = make();
  for (const std::string& bad : {std::string("ab\xff"), std::string("\xc3"),
                                 std::string("\xc0\xaf"),           // overlong '/'
                                 std::string("\xed\xa0\x80"),       // surrogate
                                 std::string("\xf4\x90\x80\x80")})  // past U+10FFFF
  {
    auto s = d->decode_bytes(bad, {});
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.status().message().find("UTF-8"), std::string::npos) << s.status();
  }
  auto e = d->decode_bytes(" \n", {});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("empty"), std::string::npos);
  EXPECT_TRUE(d->decode_bytes("ok é 東京 🙂", {}).ok());
}

TEST(TextDecoder, Utf8ValidatorMatchesDefinition) {
  size_t off = 99;
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x99\x82"));  // U+1F642
  EXPECT_FALSE(is_valid_utf8("ab\x80", &off));
  EXPECT_EQ(off, 2u);
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\x80"));  // overlong 3-byte NUL
}

TEST(TextDecoder, ReadsFilesWithoutTheTrailingNewline) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("chorus_text_dec_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "caption.txt").string();
  std::ofstream(path) << "a coat\n";
  auto d = make();
  auto s = d->decode_file(path, {});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->metadata["text"], "a coat");
  std::ofstream(path, std::ios::binary) << "bad \xff";
  auto bad = d->decode_file(path, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(path), std::string::npos);
  auto missing = d->decode_file((dir / "missing.txt").string(), {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing.txt"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(TextDecoder, CollatePadsRightWithMask) {
  auto d = make();
  std::vector<data::Sample> samples;
  for (const char* t : {"ab", "abcd", "a"}) samples.push_back(*d->decode_bytes(t, {}));
  auto b = d->collate(samples);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->size, 3);
  const Tensor ids = b->tensors.at("ids"), mask = b->tensors.at("mask");
  EXPECT_EQ(ids.shape(), (Shape{3, 6}));
  EXPECT_EQ(mask.dtype(), DType::kU8);
  EXPECT_EQ(ids.to_vector<int64_t>(),
            (std::vector<int64_t>{1, 3 + 'a', 3 + 'b', 2, 0, 0,              //
                                  1, 3 + 'a', 3 + 'b', 3 + 'c', 3 + 'd', 2,  //
                                  1, 3 + 'a', 2, 0, 0, 0}));
  EXPECT_EQ(mask.to_vector<int>(),
            (std::vector<int>{1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0}));
  EXPECT_FALSE(d->collate({}).ok());
  data::Sample wrong;
  wrong.tensors["pixels"] = Tensor::zeros({3});
  auto w = d->collate({wrong});
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("ids"), std::string::npos);
}

TEST(TextDecoder, BadOptionsAreNamed) {
  auto r = make_text_decoder({{"max_length", 2}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("max_length"), std::string::npos) << r.status();
  r = make_text_decoder({{"add_eos", "yes"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("add_eos"), std::string::npos) << r.status();
  r = make_text_decoder({{"tokenizer", "/nonexistent/tok.json"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/nonexistent/tok.json"), std::string::npos);
}

}  // namespace
}  // namespace chorus::text
