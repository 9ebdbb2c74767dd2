#include "modalities/text/decoder.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "modalities/common/options.h"

namespace chorus::text {
namespace {

using plugin::OptionSpec;
using plugin::OptionType;

class TextDecoder : public plugin::Decoder {
 public:
  TextDecoder(Tokenizer tokenizer, EncodeOptions encode)
      : tokenizer_(std::move(tokenizer)), encode_(encode) {}

  absl::StatusOr<data::Sample> decode_file(const std::string& path,
                                           const data::DecodeOptions& options) const override {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec)
      return absl::NotFoundError(absl::StrCat(path, ": cannot read text file: ", ec.message()));
    if (size > static_cast<uintmax_t>(kMaxTextFileBytes)) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": text file of ", size, " bytes exceeds the ", kMaxTextFileBytes, "-byte limit"));
    }
    std::ifstream f(path, std::ios::binary);
    if (!f) return absl::NotFoundError(absl::StrCat(path, ": cannot open text file"));
    std::stringstream ss;
    ss << f.rdbuf();
    std::string text = ss.str();
    // A text file ends with a newline by convention; it is not part of the caption.
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    auto sample = decode_bytes(text, options);
    if (!sample.ok()) {
      return absl::Status(sample.status().code(),
                          absl::StrCat(path, ": ", std::string(sample.status().message())));
    }
    return sample;
  }

  absl::StatusOr<data::Sample> decode_bytes(std::string_view bytes,
                                            const data::DecodeOptions&) const override {
    return plugin::Guard("text decoder", [&]() -> absl::StatusOr<data::Sample> {
      size_t bad = 0;
      if (!is_valid_utf8(bytes, &bad)) {
        return absl::InvalidArgumentError(
            absl::StrCat("text is not valid UTF-8 (byte ", bad, " of ", bytes.size(), ")"));
      }
      if (std::all_of(bytes.begin(), bytes.end(), [](char c) {
            return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
          })) {
        return absl::InvalidArgumentError("text is empty");
      }
      EncodeOptions unlimited = encode_;
      unlimited.max_length = 0;
      const std::vector<int64_t> full = tokenizer_.encode(bytes, unlimited);
      std::vector<int64_t> ids = tokenizer_.encode(bytes, encode_);
      data::Sample s;
      const int64_t n = static_cast<int64_t>(ids.size());
      s.tensors["ids"] = Tensor::from_vector<int64_t>(ids, {n});
      s.metadata["text"] = std::string(bytes);
      s.metadata["length"] = n;
      s.metadata["truncated"] = full.size() != ids.size();
      return s;
    });
  }

  absl::StatusOr<data::Batch> collate(const std::vector<data::Sample>& samples) const override {
    return plugin::Guard("text collate", [&]() -> absl::StatusOr<data::Batch> {
      if (samples.empty()) return absl::InvalidArgumentError("text collate: no samples");
      int64_t T = 0;
      for (size_t i = 0; i < samples.size(); ++i) {
        auto it = samples[i].tensors.find("ids");
        if (it == samples[i].tensors.end() || !it->second.defined() || it->second.dim() != 1 ||
            it->second.dtype() != DType::kI64) {
          return absl::InvalidArgumentError(
              absl::StrCat("text collate: sample ", i, " has no i64 [T] \"ids\" tensor"));
        }
        T = std::max(T, it->second.size(0));
      }
      const int64_t B = static_cast<int64_t>(samples.size());
      std::vector<int64_t> ids(static_cast<size_t>(B * T), kPadId);
      std::vector<uint8_t> mask(static_cast<size_t>(B * T), 0);
      for (int64_t b = 0; b < B; ++b) {
        const std::vector<int64_t> row = samples[b].tensors.at("ids").to_vector<int64_t>();
        for (size_t t = 0; t < row.size(); ++t) {
          ids[static_cast<size_t>(b * T) + t] = row[t];
          mask[static_cast<size_t>(b * T) + t] = 1;
        }
      }
      data::Batch batch;
      batch.size = B;
      batch.tensors["ids"] = Tensor::from_vector<int64_t>(ids, {B, T});
      batch.tensors["mask"] = Tensor::from_vector<uint8_t>(mask, {B, T});
      return batch;
    });
  }

 private:
  Tokenizer tokenizer_;
  EncodeOptions encode_;
};

}  // namespace

bool is_valid_utf8(std::string_view s, size_t* bad_offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  auto fail = [&] {
    if (bad_offset) *bad_offset = i;
    return false;
  };
  while (i < n) {
    const unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    int len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4, cp = c & 0x07;
    } else {
      return fail();  // continuation byte, overlong 2-byte lead (C0/C1) or F5..FF
    }
    if (i + static_cast<size_t>(len) > n) return fail();
    for (int k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return fail();
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return fail();
    }
    i += static_cast<size_t>(len);
  }
  return true;
}

plugin::OptionSchema text_decoder_options() {
  return {
      OptionSpec{"tokenizer", OptionType::kPath, "",
                 "tokenizer JSON written by `chorus tokenizer train` (\"\" = plain bytes)"},
      OptionSpec{"max_length",
                 OptionType::kInt,
                 64,
                 "longest token sequence, BOS and EOS included (longer text is truncated)",
                 {},
                 3,
                 1 << 20},
      OptionSpec{"add_bos", OptionType::kBool, true, "start every sequence with <bos> (CLS)"},
      OptionSpec{"add_eos", OptionType::kBool, true, "end every sequence with <eos>"},
  };
}

absl::StatusOr<Tokenizer> tokenizer_from_options(const plugin::Options& options) {
  const std::string path = options.value("tokenizer", std::string());
  if (path.empty()) return Tokenizer();
  return Tokenizer::load(path);
}

absl::StatusOr<std::unique_ptr<plugin::Decoder>> make_text_decoder(const plugin::Options& given) {
  return plugin::Guard("text decoder", [&]() -> absl::StatusOr<std::unique_ptr<plugin::Decoder>> {
    auto options = modality::resolve_options(text_decoder_options(), given, "text decoder");
    if (!options.ok()) return options.status();
    auto tokenizer = tokenizer_from_options(*options);
    if (!tokenizer.ok()) return tokenizer.status();
    EncodeOptions encode;
    encode.add_bos = (*options)["add_bos"].get<bool>();
    encode.add_eos = (*options)["add_eos"].get<bool>();
    encode.max_length = (*options)["max_length"].get<int64_t>();
    return std::unique_ptr<plugin::Decoder>(
        std::make_unique<TextDecoder>(std::move(*tokenizer), encode));
  });
}

}  // namespace chorus::text
