// CRC-32C: published check values for both implementations, agreement between them on every
// length and alignment, and chaining with crc32c_extend.
#include "core/io/crc32c.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace chorus {
namespace {

using CrcFn = std::function<uint32_t(uint32_t, const void*, size_t)>;

struct Impl {
  const char* name;
  CrcFn fn;
  bool available;
};

std::vector<Impl> implementations() {
  return {{"software", crc32c_extend_software, true},
          {"hardware", crc32c_extend_hardware, crc32c_hardware_available()},
          {"dispatch", crc32c_extend, true}};
}

std::vector<unsigned char> bytes(size_t n, unsigned char fill) {
  return std::vector<unsigned char>(n, fill);
}

TEST(Crc32c, PublishedCheckValues) {
  std::vector<unsigned char> ascending(32), descending(32);
  for (int i = 0; i < 32; ++i) {
    ascending[i] = static_cast<unsigned char>(i);
    descending[i] = static_cast<unsigned char>(31 - i);
  }
  const std::string check = "123456789";
  for (const Impl& impl : implementations()) {
    SCOPED_TRACE(impl.name);
    if (!impl.available) continue;
    // The standard check value (e.g. the CRC catalogue's CRC-32/ISCSI entry).
    EXPECT_EQ(impl.fn(0, check.data(), check.size()), 0xE3069283u);
    // RFC 3720 (iSCSI) appendix B.4.
    EXPECT_EQ(impl.fn(0, bytes(32, 0x00).data(), 32), 0x8A9136AAu);
    EXPECT_EQ(impl.fn(0, bytes(32, 0xFF).data(), 32), 0x62A8AB43u);
    EXPECT_EQ(impl.fn(0, ascending.data(), 32), 0x46DD794Eu);
    EXPECT_EQ(impl.fn(0, descending.data(), 32), 0x113FDB5Cu);
    // Nothing hashed leaves the running value unchanged.
    EXPECT_EQ(impl.fn(0, nullptr, 0), 0u);
    EXPECT_EQ(impl.fn(0x12345678u, check.data(), 0), 0x12345678u);
  }
}

TEST(Crc32c, HardwarePathIsTestedWhereAvailable) {
  if (!crc32c_hardware_available()) GTEST_SKIP() << "this CPU has no SSE4.2";
  const std::string check = "123456789";
  EXPECT_EQ(crc32c_extend_hardware(0, check.data(), check.size()), 0xE3069283u);
}

// Every length 0..300 at every start alignment 0..7: the 8-byte loops, their tails and the
// unaligned loads all agree with a plain bit-at-a-time reference.
TEST(Crc32c, ImplementationsAgreeWithBitwiseReference) {
  auto bitwise = [](const unsigned char* p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; ++i) {
      c ^= p[i];
      for (int b = 0; b < 8; ++b) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return ~c;
  };
  std::mt19937 rng(7);
  std::vector<unsigned char> buf(320);
  for (auto& b : buf) b = static_cast<unsigned char>(rng());
  for (const Impl& impl : implementations()) {
    SCOPED_TRACE(impl.name);
    if (!impl.available) continue;
    for (size_t start = 0; start < 8; ++start) {
      for (size_t n = 0; n + start <= 308; ++n) {
        ASSERT_EQ(impl.fn(0, buf.data() + start, n), bitwise(buf.data() + start, n))
            << "start " << start << " length " << n;
      }
    }
  }
}

TEST(Crc32c, ExtendChainsPieces) {
  std::mt19937 rng(11);
  std::vector<unsigned char> buf(1000);
  for (auto& b : buf) b = static_cast<unsigned char>(rng());
  const uint32_t whole = crc32c(buf.data(), buf.size());
  for (size_t split : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{333}, size_t{1000}}) {
    for (const Impl& impl : implementations()) {
      if (!impl.available) continue;
      const uint32_t head = impl.fn(0, buf.data(), split);
      EXPECT_EQ(impl.fn(head, buf.data() + split, buf.size() - split), whole)
          << impl.name << " split at " << split;
    }
  }
}

}  // namespace
}  // namespace chorus
