// Philox4x32-10 against the known-answer vectors published with Random123
// (Salmon et al., SC'11), and the stream layout contract used by every random op.
#include "core/tensor/philox.h"

#include <gtest/gtest.h>

namespace chorus {
namespace {

TEST(Philox, KnownAnswerVectors) {
  EXPECT_EQ(philox4x32_10({0, 0, 0, 0}, {0, 0}),
            (std::array<uint32_t, 4>{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  EXPECT_EQ(philox4x32_10({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
                          {0xffffffffu, 0xffffffffu}),
            (std::array<uint32_t, 4>{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
  EXPECT_EQ(philox4x32_10({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
                          {0xa4093822u, 0x299f31d0u}),
            (std::array<uint32_t, 4>{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

TEST(Philox, StreamLayoutIsCounterBased) {
  // Element i of a draw at offset o is word i%4 of block o + i/4.
  const auto block = philox4x32_10({5, 0, 0, 0}, {42, 0});
  for (uint64_t i = 0; i < 4; ++i) EXPECT_EQ(philox_word(42, 5, i), block[i]);
  EXPECT_EQ(philox_word(42, 4, 4), philox_word(42, 5, 0));
  Generator g(42);
  EXPECT_EQ(g.reserve(10), 0u);  // 10 words need 3 blocks
  EXPECT_EQ(g.reserve(1), 3u);
  EXPECT_EQ(g.offset(), 4u);
}

TEST(Philox, UniformIsInUnitIntervalAndCentred) {
  double sum = 0;
  for (uint64_t i = 0; i < 100000; ++i) {
    const float u = uniform_from_word(philox_word(1, 0, i));
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    sum += u;
  }
  EXPECT_NEAR(sum / 100000, 0.5, 0.005);
}

}  // namespace
}  // namespace chorus
