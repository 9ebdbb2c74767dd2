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
// `defined` gets bit (class * 4 + id) set for every table the segment defines.
std::string check_dht(Reader& r, unsigned* defined) {
  int remaining = static_cast<int>(r.get16()) - 2;
  while (remaining > 0) {
    const unsigned class_id = r.get8();  // table class (0 DC, 1 AC) and id (0..3)
    if ((class_id >> 4) <= 1 && (class_id & 15) <= 3) {
      *defined |= 1u << ((class_id >> 4) * 4 + (class_id & 15));
    }
    int n = 0;
    int counts[17] = {};
    for (int i = 1; i <= 16; ++i) n += counts[i] = static_cast<int>(r.get8());
    if (n > 256) {
      return absl::StrCat("corrupt jpeg: a Huffman table declares ", n, " codes (at most 256)");
    }
    // Canonical Huffman codes (JPEG spec, Annex C): the counts[j] codes of length j must fit in j
    // bits. Over-subscribed tables make stb 2.27's decoder index past its 256-symbol arrays
    // (found by the image fuzzer; stb 2.28 added this check upstream).
    uint32_t code = 0;
    for (int j = 1; j <= 16; ++j) {
      code += static_cast<uint32_t>(counts[j]);
      if (counts[j] > 0 && code - 1 >= (1u << j)) {
        return absl::StrCat("corrupt jpeg: a Huffman table has more codes of up to ", j,
                            " bits than fit in ", j, " bits");
      }
      code <<= 1;
    }
    for (int i = 0; i < n; ++i) r.get8();
    remaining -= 17 + n;
    if (r.eof()) break;
  }
  return "";
}

// A start-of-scan segment at r's position: every Huffman table the scan decodes with must
// have been defined. stb 2.27 allocates its tables without zeroing them, so a scan using a
// table no DHT defined decodes with garbage offsets and reads far outside the symbol array
// (found by the image fuzzer). DC tables are used by baseline and first DC scans (Ss = 0,
// Ah = 0), AC tables whenever the spectral band goes past DC (Se > 0).
std::string check_sos(Reader& r, unsigned defined) {
  r.get16();  // length
  const unsigned components = r.get8();
  if (components < 1 || components > 4) return "";  // stb refuses it
  unsigned tables[4] = {};
  for (unsigned c = 0; c < components; ++c) {
    r.get8();  // component id
    tables[c] = r.get8();
  }
  const unsigned ss = r.get8(), se = r.get8(), ah = r.get8() >> 4;
  for (unsigned c = 0; c < components; ++c) {
    const unsigned dc = tables[c] >> 4, ac = tables[c] & 15;
    if (ss == 0 && ah == 0 && dc <= 3 && !(defined & (1u << dc))) {
      return absl::StrCat("corrupt jpeg: a scan uses DC Huffman table ", dc,
                          ", which no DHT segment defined");
    }
    if (se > 0 && ac <= 3 && !(defined & (1u << (4 + ac)))) {
      return absl::StrCat("corrupt jpeg: a scan uses AC Huffman table ", ac,
                          ", which no DHT segment defined");
    }
  }
  return "";
}

}  // namespace

std::string check_jpeg_huffman_tables(std::string_view bytes) {
  Reader r(bytes);
  if (r.get8() != 0xFF || r.get8() != 0xD8) return "";  // not JPEG: stb will refuse it anyway
  unsigned defined = 0;
  // Header walk, mirroring stbi__decode_jpeg_header / stbi__get_marker.
  while (!r.eof()) {
    unsigned x = r.get8();
    if (x != 0xFF) continue;  // junk between segments: stb scans on for the next 0xFF
    while (x == 0xFF && !r.eof()) x = r.get8();
    if (x == 0xDA || x == 0xD9) break;  // first scan (or end): switch to the superset check
    if (x == 0xD8 || (x >= 0xD0 && x <= 0xD7) || x == 0x01) continue;  // no length field
    if (x == 0xC4) {
      const size_t start = r.pos();
      if (std::string problem = check_dht(r, &defined); !problem.empty()) return problem;
      r.seek(start);
    }
    const size_t start = r.pos();
    const unsigned length = r.get16();
    if (length < 2) return "";  // stb rejects it
    r.seek(start + length);
  }
  // From the first scan on, every FF C4 / FF DA byte pair is checked as if it began a DHT / SOS
  // segment, in file order: entropy-coded data never contains them (0xFF is always stuffed), so
  // this covers whatever stb can reach.
  for (size_t p = r.pos() >= 2 ? r.pos() - 2 : 0; p + 1 < bytes.size(); ++p) {
    if (static_cast<unsigned char>(bytes[p]) != 0xFF) continue;
    const unsigned marker = static_cast<unsigned char>(bytes[p + 1]);
    if (marker != 0xC4 && marker != 0xDA) continue;
    Reader at(bytes);
    at.seek(p + 2);
    std::string problem = marker == 0xC4 ? check_dht(at, &defined) : check_sos(at, defined);
    if (!problem.empty()) return problem;
  }
  return "";
}

}  // namespace chorus::image
