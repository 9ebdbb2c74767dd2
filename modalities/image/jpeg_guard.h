// A pre-check for a bug in Debian's stb_image 2.27: a JPEG Huffman table (DHT) whose 16 code
// counts sum to more than 256 makes stbi__build_huffman write past its 257-entry size array
// (found by tools/fuzz/image_fuzz; stb 2.28 added the check upstream), and over-subscribed code
// lengths (more codes of a length than its bits can hold) make its decoder index past the
// 256-symbol tables. We refuse such files before stb sees them.
#pragma once

#include <string>
#include <string_view>

namespace chorus::image {

// "" when every Huffman table stb could read is well formed, else the problem. Up to the first
// scan, segments are walked exactly as stb_image walks them (fill bytes, junk skipped to the
// next 0xFF, lengths); after it, every FF C4 byte pair is checked as if it began a DHT, a
// superset of what stb can reach (entropy-coded data never contains FF C4).
std::string check_jpeg_huffman_tables(std::string_view bytes);

}  // namespace chorus::image
