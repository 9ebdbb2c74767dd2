// libFuzzer target: arbitrary bytes parsed as a whole safetensors file.
//
// Beyond "no crash, no sanitizer report", it checks what a successful parse promises: every
// tensor's bytes lie inside the input (all of them are read, so ASan would catch a bad range),
// byte counts match dtype x shape, ranges do not overlap, and re-encoding the header then
// parsing again gives back the same tensors and metadata. A failure must name the source.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/io/safetensors_header.h"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "safetensors_fuzz: %s\n", what);
  std::abort();
}

uint64_t numel(const chorus::Shape& shape) {
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto header = chorus::parse_safetensors(data, size, "fuzz-input");
  if (!header.ok()) {
    if (header.status().message().rfind("fuzz-input: ", 0) != 0) fail("error lacks the source");
    return 0;
  }
  if (header->data_start > size || header->data_start + header->data_size != size) {
    fail("data buffer bounds");
  }
  volatile uint8_t sink = 0;
  uint64_t previous_end = 0;
  for (const auto& t : header->tensors) {
    if (t.begin > t.end || t.end > header->data_size) fail("tensor outside the data buffer");
    if (t.nbytes() != numel(t.shape) * chorus::dtype_size(t.dtype)) fail("byte count");
    if (t.begin < t.end) {
      if (t.begin < previous_end) fail("overlap");
      previous_end = t.end;
    }
    for (uint64_t b = t.begin; b < t.end; ++b) sink = sink ^ data[header->data_start + b];
  }

  auto encoded = chorus::encode_safetensors_header(header->tensors, header->metadata);
  if (!encoded.ok()) fail("a parsed header does not encode");
  std::string image = *encoded;
  image.append(reinterpret_cast<const char*>(data) + header->data_start, header->data_size);
  auto again = chorus::parse_safetensors(image.data(), image.size(), "round-trip");
  if (!again.ok()) fail("the re-encoded header does not parse");
  if (again->tensors != header->tensors || again->metadata != header->metadata ||
      again->data_size != header->data_size) {
    fail("round trip changed the header");
  }
  return 0;
}
