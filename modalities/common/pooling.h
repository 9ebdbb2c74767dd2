// Pooling a token sequence [B, T, D] into one vector per input [B, D], respecting the key mask
// (u8 [B, T], 1 = real token): padding never changes a pooled vector.
#pragma once

#include <string>

#include "core/tensor/tensor.h"

namespace chorus::modality {

enum class Pooling {
  kCls,   // the first token (a learned CLS token, or the tokenizer's BOS)
  kMean,  // mean over real tokens
  kEos,   // the last real token (the tokenizer's EOS when it adds one)
};

// "cls" | "mean" | "eos"; throws chorus::Error for anything else.
Pooling parse_pooling(const std::string& name);

// tokens [B, T, D], mask u8 [B, T] -> [B, D]. A row without real tokens pools to zeros (mean)
// or to its first token (eos).
Tensor pool(const Tensor& tokens, const Tensor& mask, Pooling pooling);

// bool [B, T], true at padding: the form attention's key_padding_mask takes.
Tensor padding_mask(const Tensor& mask);

}  // namespace chorus::modality
