// Philox 4x32-10 counter-based random numbers (Salmon et al., "Parallel random numbers:
// as easy as 1, 2, 3", SC'11).
//
// A draw is a pure function of (seed, counter): the CPU and CUDA backends produce identical
// streams for the same seed and offset, and any element can be generated independently.
// Stream layout used by every random op in Chorus: element i of a draw that starts at
// `offset` takes word (i % 4) of philox(key = seed, counter = {offset + i / 4, 0, 0, 0}).
// A Generator hands out offsets so that consecutive draws never overlap.
#pragma once

#include <array>
#include <cstdint>

namespace chorus {

// One Philox4x32-10 block. Marked inline/constexpr so device code can share the definition.
constexpr std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> ctr,
                                                std::array<uint32_t, 2> key) {
  constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t{kMul0} * ctr[0];
    const uint64_t p1 = uint64_t{kMul1} * ctr[2];
    ctr = {static_cast<uint32_t>(p1 >> 32) ^ ctr[1] ^ key[0], static_cast<uint32_t>(p1),
           static_cast<uint32_t>(p0 >> 32) ^ ctr[3] ^ key[1], static_cast<uint32_t>(p0)};
    key[0] += kWeyl0;
    key[1] += kWeyl1;
  }
  return ctr;
}

// The 32-bit word for element `index` of the stream (seed, offset).
constexpr uint32_t philox_word(uint64_t seed, uint64_t offset, uint64_t index) {
  const uint64_t block = offset + index / 4;
  auto r = philox4x32_10({static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), 0, 0},
                         {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)});
  return r[index % 4];
}

// Uniform float in [0, 1) from a 32-bit word (24 random mantissa bits).
constexpr float uniform_from_word(uint32_t w) { return static_cast<float>(w >> 8) * 0x1.0p-24f; }

// Hands out non-overlapping stream offsets for a seed.
class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_state(uint64_t seed, uint64_t offset) {
    seed_ = seed;
    offset_ = offset;
  }
  // Reserves blocks for `n` words and returns the starting offset.
  uint64_t reserve(uint64_t n) {
    const uint64_t start = offset_;
    offset_ += (n + 3) / 4;
    return start;
  }

 private:
  uint64_t seed_ = 0;
  uint64_t offset_ = 0;
};

}  // namespace chorus
