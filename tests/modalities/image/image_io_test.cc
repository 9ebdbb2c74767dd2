// Decoding: the supported formats give the pixels that were encoded; hostile files are refused
// with a message naming the file and the problem.
#include "modalities/image/image_io.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "modalities/image/decoder.h"
#include "modalities/image/jpeg_guard.h"
#include "nlohmann/json.hpp"

namespace chorus::image {
namespace {

const std::string kDir = std::string(CHORUS_FIXTURE_DIR) + "/image/";
const std::string kHostile = std::string(CHORUS_FIXTURE_DIR) + "/hostile/";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<int> tiny_pixels() {
  return nlohmann::json::parse(slurp(kDir + "golden.json"))["tiny"].get<std::vector<int>>();
}

TEST(ImageIo, LosslessFormatsDecodeToTheEncodedPixels) {
  const std::vector<int> expected = tiny_pixels();
  for (const char* name : {"tiny.png", "tiny.gif", "tiny.ppm", "tiny.bmp"}) {
    auto img = decode_image(slurp(kDir + name), {});
    ASSERT_TRUE(img.ok()) << name << ": " << img.status();
    EXPECT_EQ(img->width, 8) << name;
    EXPECT_EQ(img->height, 6) << name;
    ASSERT_EQ(img->rgb.size(), expected.size()) << name;
    for (size_t i = 0; i < expected.size(); ++i) {
      ASSERT_EQ(img->rgb[i], expected[i]) << name << " byte " << i;
    }
  }
}

TEST(ImageIo, FormatIsNamedFromTheMagicBytes) {
  EXPECT_EQ(decode_image(slurp(kDir + "tiny.png"), {})->format, "png");
  EXPECT_EQ(decode_image(slurp(kDir + "tiny.gif"), {})->format, "gif");
  EXPECT_EQ(decode_image(slurp(kDir + "tiny.ppm"), {})->format, "pnm");
  EXPECT_EQ(decode_image(slurp(kDir + "tiny.bmp"), {})->format, "bmp");
  EXPECT_EQ(decode_image(slurp(kDir + "tiny.jpg"), {})->format, "jpeg");
}

TEST(ImageIo, JpegIsCloseToItsSource) {
  // tiny.jpg is the 8x6 image upscaled 8x (blocks of 8x8, aligned with JPEG's), quality 95.
  const std::vector<int> tiny = tiny_pixels();
  auto img = decode_image(slurp(kDir + "tiny.jpg"), {});
  ASSERT_TRUE(img.ok()) << img.status();
  ASSERT_EQ(img->width, 64);
  ASSERT_EQ(img->height, 48);
  double err = 0;
  for (int y = 0; y < 48; ++y) {
    for (int x = 0; x < 64; ++x) {
      for (int c = 0; c < 3; ++c) {
        err += std::abs(img->rgb[(y * 64 + x) * 3 + c] - tiny[((y / 8) * 8 + x / 8) * 3 + c]);
      }
    }
  }
  EXPECT_LT(err / (48 * 64 * 3), 6.0);  // mean absolute error in 8-bit levels
}

TEST(ImageIo, GreyIsReplicatedIntoRgb) {
  auto img = decode_image(slurp(kDir + "grey28.png"), {});
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_EQ(img->source_channels, 1);
  for (int p = 0; p < 28 * 28; ++p) {
    ASSERT_EQ(img->rgb[p * 3], img->rgb[p * 3 + 1]);
    ASSERT_EQ(img->rgb[p * 3], img->rgb[p * 3 + 2]);
  }
}

TEST(ImageIo, SizeLimitsAreCheckedFromTheHeader) {
  ImageLimits limits;
  limits.max_dimension = 16;
  auto img = decode_image(slurp(kDir + "rgb37x29.png"), limits);
  ASSERT_FALSE(img.ok());
  EXPECT_NE(img.status().message().find("37x29"), std::string::npos) << img.status();
  limits = {};
  limits.max_pixels = 37 * 29 - 1;
  EXPECT_FALSE(decode_image(slurp(kDir + "rgb37x29.png"), limits).ok());
  limits.max_pixels = 37 * 29;
  EXPECT_TRUE(decode_image(slurp(kDir + "rgb37x29.png"), limits).ok());
}

TEST(ImageIo, PnmHeaderWithCommentsDecodes) {
  // P5 (grey), a comment line between the magic and the numbers, 3x2 pixels.
  const std::string header = "P5\n# made by hand\n3 2\n255\n";
  const unsigned char pixels[] = {0x00, 0x40, 0x80, 0xc0, 0xe0, 0xff};
  const std::string pgm = header + std::string(reinterpret_cast<const char*>(pixels), 6);
  auto img = decode_image(pgm, {});
  ASSERT_TRUE(img.ok()) << img.status();
  EXPECT_EQ(img->width, 3);
  EXPECT_EQ(img->height, 2);
  EXPECT_EQ(img->rgb[3 * 4], 0xe0);  // pixel 4 (row 1, column 1), grey replicated into RGB
  EXPECT_EQ(img->rgb[3 * 4 + 2], 0xe0);
  // One pixel byte short: refused, not filled from whatever memory follows.
  auto short_pgm = decode_image(pgm.substr(0, pgm.size() - 1), {});
  ASSERT_FALSE(short_pgm.ok());
  EXPECT_NE(short_pgm.status().message().find("truncated pnm: 5 pixel bytes of 6"),
            std::string::npos)
      << short_pgm.status();
}

// jpeg_guard on hand-made segments: SOI, one DHT (class/id byte, 16 counts, symbols), optionally
// an SOS using the tables.
std::string dht_jpeg(const std::vector<int>& counts_by_length, const std::string& sos = "") {
  std::string table(1, '\x00');  // DC table 0
  int n = 0;
  for (int i = 0; i < 16; ++i) {
    const int c = i < static_cast<int>(counts_by_length.size()) ? counts_by_length[i] : 0;
    table += static_cast<char>(c);
    n += c;
  }
  for (int i = 0; i < n; ++i) table += static_cast<char>(i);
  const int length = static_cast<int>(table.size()) + 2;
  return std::string("\xFF\xD8\xFF\xC4", 4) + static_cast<char>(length >> 8) +
         static_cast<char>(length & 255) + table + sos;
}

TEST(JpegGuard, RefusesTablesStbWouldMisuse) {
  EXPECT_EQ(check_jpeg_huffman_tables(dht_jpeg({1, 2})), "");  // codes 0, 10, 11
  // Three codes of length 1 cannot exist (only 0 and 1).
  EXPECT_NE(check_jpeg_huffman_tables(dht_jpeg({3})).find("more codes of up to 1 bits"),
            std::string::npos);
  // 1 code of 1 bit uses "0"; 3 codes of 2 bits need 10, 11 and a third: over-subscribed.
  EXPECT_NE(check_jpeg_huffman_tables(dht_jpeg({1, 3})).find("up to 2 bits"), std::string::npos);
  // A baseline scan of one component with DC table 0 (defined) and AC table 0 (not defined).
  const std::string sos("\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00", 10);
  EXPECT_NE(check_jpeg_huffman_tables(dht_jpeg({1, 2}, sos)).find("AC Huffman table 0"),
            std::string::npos);
}

// Every hostile file: an error (never a crash) whose message names the file and the problem.
TEST(ImageIo, HostileFilesAreRejectedWithClearMessages) {
  auto decoder = make_image_decoder(nlohmann::json::object());
  ASSERT_TRUE(decoder.ok()) << decoder.status();
  const std::pair<const char*, const char*> cases[] = {
      {"truncated.png", "truncated png: chunk 'IDAT' at byte 33 declares 3259 bytes, 1617 remain"},
      {"truncated.jpg", "corrupt or truncated jpeg"},
      {"huge_60000x60000.png", "claims 60000x60000 pixels, over the limit"},
      {"zero_length.png", "empty input (0 bytes)"},
      {"wrong_magic.png", "unrecognised image format"},
      {"zero_width.png", "png header gives an empty image (0x6)"},
      // Found by image_fuzz: overflows stb_image 2.27's Huffman table (see jpeg_guard.h).
      {"bad_huffman.jpg", "Huffman table declares"},
      {"bad_huffman_header.jpg", "Huffman table declares"},  // overflowed inside stbi_info
      // Found by image_fuzz: a scan using a table no DHT defined (stb reads garbage offsets).
      {"jpeg_undefined_huffman.jpg",
       "a scan uses AC Huffman table 1, which no DHT segment defined"},
      {"does_not_exist.png", "cannot open file"},
      // Found by image_fuzz: stb_image reads PNM numbers into an int without overflow checks.
      {"pnm_overflow_width.pgm", "pnm header width has more than 9 digits"},
      {"pnm_huge.pgm", "claims 60000x60000 pixels, over the limit"},
      {"pnm_bad_maxval.ppm", "pnm header maxval 70000: only 8-bit PNM"},
      // Found by image_fuzz: stb_image 2.27 overflows its buffer converting 16-bit PNM.
      {"pnm_16bit.pgm", "pnm header maxval 655: only 8-bit PNM (maxval 1..255) is supported"},
      // Found by image_fuzz: 189 bytes declaring a huge IDAT made stb_image allocate 2 GiB.
      {"png_huge_chunk.png", "declares"},
  };
  for (const auto& [file, message] : cases) {
    const std::string path = kHostile + file;
    auto sample = (*decoder)->decode_file(path, {});
    ASSERT_FALSE(sample.ok()) << file << " was accepted";
    const std::string text(sample.status().message());
    EXPECT_NE(text.find("image '" + path + "'"), std::string::npos) << text;
    EXPECT_NE(text.find(message), std::string::npos) << file << ": " << text;
  }
}

}  // namespace
}  // namespace chorus::image
