// The text modality's decoder: UTF-8 text (a caption, inline in the manifest, or a text file)
// -> token ids, and the collator that pads a batch of them.
//
//   Sample: "ids" i64 [T] (BOS, content, EOS; T <= max_length); metadata {"text", "length",
//           "truncated"}
//   Batch:  "ids" i64 [B, T] padded with <pad> (id 0) on the right, "mask" u8 [B, T]
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "chorus/plugin.h"
#include "modalities/text/tokenizer.h"

namespace chorus::text {

// tokenizer (path, "" = byte-level without merges), max_length (64), add_bos (true),
// add_eos (true).
plugin::OptionSchema text_decoder_options();

absl::StatusOr<std::unique_ptr<plugin::Decoder>> make_text_decoder(const plugin::Options& options);

// The tokenizer the options name: the file at "tokenizer", or the byte-level one when empty.
absl::StatusOr<Tokenizer> tokenizer_from_options(const plugin::Options& options);

// Largest text file decode_file reads (captions and transcripts, not books).
inline constexpr int64_t kMaxTextFileBytes = 16 << 20;

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF); on failure *bad_offset is the offset of the first bad byte.
bool is_valid_utf8(std::string_view s, size_t* bad_offset = nullptr);

}  // namespace chorus::text
