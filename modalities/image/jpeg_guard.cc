#include "modalities/image/jpeg_guard.h"

#include <cstdint>

#include "absl/strings/str_cat.h"

namespace chorus::image {
namespace {

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  // Past the end reads 0, as stb's stbi__get8 does.
  unsigned get8() { return pos_ < b_.size() ? static_cast<unsigned char>(b_[pos_++]) : 0u; }
  unsigned get16() {
    const unsigned hi = get8();
    return (hi << 8) | get8();
  }
  bool eof() const { return pos_ >= b_.size(); }
  size_t pos() const { return pos_; }
  void seek(size_t p) { pos_ = p; }

 private:
  std::string_view b_;
  size_t pos_ = 0;
};

// The tables of one DHT segment whose length field is at r's position, read like
// stbi__process_marker does (table by table until the length is used up).
std::string check_dht(Reader& r) {
  int remaining = static_cast<int>(r.get16()) - 2;
  while (remaining > 0) {
    r.get8();  // table class and id
    int n = 0;
    for (int i = 0; i < 16; ++i) n += static_cast<int>(r.get8());
    if (n > 256) {
      return absl::StrCat("corrupt jpeg: a Huffman table declares ", n, " codes (at most 256)");
    }
    for (int i = 0; i < n; ++i) r.get8();
    remaining -= 17 + n;
    if (r.eof()) break;
  }
  return "";
}

}  // namespace

std::string check_jpeg_huffman_tables(std::string_view bytes) {
  Reader r(bytes);
  if (r.get8() != 0xFF || r.get8() != 0xD8) return "";  // not JPEG: stb will refuse it anyway
  // Header walk, mirroring stbi__decode_jpeg_header / stbi__get_marker.
  while (!r.eof()) {
    unsigned x = r.get8();
    if (x != 0xFF) continue;  // junk between segments: stb scans on for the next 0xFF
    while (x == 0xFF && !r.eof()) x = r.get8();
    if (x == 0xDA || x == 0xD9) break;  // first scan (or end): switch to the superset check
    if (x == 0xD8 || (x >= 0xD0 && x <= 0xD7) || x == 0x01) continue;  // no length field
    if (x == 0xC4) {
      const size_t start = r.pos();
      if (std::string problem = check_dht(r); !problem.empty()) return problem;
      r.seek(start);
    }
    const size_t start = r.pos();
    const unsigned length = r.get16();
    if (length < 2) return "";  // stb rejects it
    r.seek(start + length);
  }
  for (size_t p = r.pos() >= 2 ? r.pos() - 2 : 0; p + 1 < bytes.size(); ++p) {
    if (static_cast<unsigned char>(bytes[p]) == 0xFF &&
        static_cast<unsigned char>(bytes[p + 1]) == 0xC4) {
      Reader at(bytes);
      at.seek(p + 2);
      if (std::string problem = check_dht(at); !problem.empty()) return problem;
    }
  }
  return "";
}

}  // namespace chorus::image
