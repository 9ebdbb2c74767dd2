// Every kind of malformed safetensors file, built byte by byte: each must be refused with the
// right status code and a message that names the file and the problem.
#include <gtest/gtest.h>

#include <string>

#include "core/io/safetensors.h"
#include "io_test_util.h"

namespace chorus {
namespace {

using ::chorus::testing::le64;
using ::chorus::testing::read_bytes;
using ::chorus::testing::safetensors_image;
using ::chorus::testing::StatusIs;
using ::chorus::testing::TempDir;
using ::chorus::testing::write_bytes;
using Code = absl::StatusCode;

class Malformed : public ::testing::Test {
 protected:
  // Writes `bytes` to a file, opens it, and checks the error. The in-memory parser must agree
  // (it is what the fuzzer exercises).
  ::testing::AssertionResult Rejects(const std::string& bytes, Code code,
                                     std::initializer_list<std::string_view> needles) {
    const std::string path = dir_.file("bad.safetensors");
    write_bytes(path, bytes);
    auto file = SafetensorsFile::Open(path);
    if (file.ok()) return ::testing::AssertionFailure() << "file was accepted";
    auto result = StatusIs(file.status(), code, needles);
    if (!result) return result;
    result = StatusIs(file.status(), code, {path});
    if (!result) return result;
    auto parsed = parse_safetensors(bytes.data(), bytes.size(), "in-memory");
    if (parsed.ok()) return ::testing::AssertionFailure() << "in-memory parse accepted it";
    return StatusIs(parsed.status(), code, {"in-memory"});
  }

  // One F32 tensor "w" with the given fields (JSON text) and enough data bytes.
  ::testing::AssertionResult RejectsEntry(const std::string& fields, Code code,
                                          std::initializer_list<std::string_view> needles,
                                          size_t data_bytes = 64) {
    return Rejects(safetensors_image("{\"w\": {" + fields + "}}", data_bytes), code, needles);
  }

  TempDir dir_;
};

TEST_F(Malformed, EmptyFile) {
  EXPECT_TRUE(Rejects("", Code::kDataLoss, {"0 bytes", "shorter than the 8-byte"}));
}

TEST_F(Malformed, ShorterThanEightBytes) {
  EXPECT_TRUE(Rejects("\x02\0\0\0", Code::kDataLoss, {"shorter than the 8-byte"}));
}

TEST_F(Malformed, HeaderLengthBeyondFile) {
  EXPECT_TRUE(Rejects(le64(1000) + "{}", Code::kDataLoss,
                      {"header length 1000 exceeds the 2 bytes", "truncated"}));
}

TEST_F(Malformed, HeaderLengthOverLimit) {
  EXPECT_TRUE(Rejects(le64(100'000'001) + "{}      ", Code::kInvalidArgument,
                      {"header length 100000001 exceeds the limit of 100000000"}));
  EXPECT_TRUE(
      Rejects(le64(~uint64_t{0}) + "{}      ", Code::kInvalidArgument, {"exceeds the limit"}));
}

TEST_F(Malformed, HeaderNotJson) {
  EXPECT_TRUE(Rejects(safetensors_image("{\"w\": "), Code::kInvalidArgument, {"not valid JSON"}));
  EXPECT_TRUE(
      Rejects(safetensors_image("{} trailing"), Code::kInvalidArgument, {"not valid JSON"}));
  EXPECT_TRUE(Rejects(safetensors_image(""), Code::kInvalidArgument, {"not valid JSON"}));
  // A number that does not fit a double, and bytes that are not UTF-8.
  EXPECT_TRUE(
      Rejects(safetensors_image("{\"w\": 1e999}"), Code::kInvalidArgument, {"not valid JSON"}));
  EXPECT_TRUE(
      Rejects(safetensors_image("{\"\xff\": 1}"), Code::kInvalidArgument, {"not valid JSON"}));
}

TEST_F(Malformed, HeaderNotAnObject) {
  EXPECT_TRUE(Rejects(safetensors_image("[1, 2]"), Code::kInvalidArgument,
                      {"header is a JSON array, expected an object"}));
  EXPECT_TRUE(
      Rejects(safetensors_image("\"text\""), Code::kInvalidArgument, {"header is a JSON string"}));
}

TEST_F(Malformed, HeaderNestedTooDeeply) {
  const std::string deep = std::string(40, '[') + std::string(40, ']');
  EXPECT_TRUE(Rejects(safetensors_image("{\"w\": " + deep + "}"), Code::kInvalidArgument,
                      {"nested deeper than"}));
}

TEST_F(Malformed, EntryNotAnObject) {
  EXPECT_TRUE(Rejects(safetensors_image("{\"w\": 3}"), Code::kInvalidArgument,
                      {"tensor 'w': entry is a JSON number"}));
}

TEST_F(Malformed, EntryMissingDtype) {
  EXPECT_TRUE(RejectsEntry(R"("shape": [1], "data_offsets": [0, 4])", Code::kInvalidArgument,
                           {"tensor 'w': missing \"dtype\""}));
}

TEST_F(Malformed, EntryMissingShape) {
  EXPECT_TRUE(RejectsEntry(R"("dtype": "F32", "data_offsets": [0, 4])", Code::kInvalidArgument,
                           {"tensor 'w': missing \"shape\""}));
}

TEST_F(Malformed, EntryMissingDataOffsets) {
  EXPECT_TRUE(RejectsEntry(R"("dtype": "F32", "shape": [1])", Code::kInvalidArgument,
                           {"tensor 'w': missing \"data_offsets\""}));
}

TEST_F(Malformed, EntryFieldsOfWrongType) {
  EXPECT_TRUE(RejectsEntry(R"("dtype": 5, "shape": [1], "data_offsets": [0, 4])",
                           Code::kInvalidArgument, {"\"dtype\" is a JSON number"}));
  EXPECT_TRUE(RejectsEntry(R"("dtype": "F32", "shape": "1", "data_offsets": [0, 4])",
                           Code::kInvalidArgument, {"\"shape\" is a JSON string"}));
  EXPECT_TRUE(RejectsEntry(R"("dtype": "F32", "shape": [1], "data_offsets": {"a": 0})",
                           Code::kInvalidArgument, {"\"data_offsets\" is {\"a\":0}"}));
}

TEST_F(Malformed, UnknownDtype) {
  EXPECT_TRUE(RejectsEntry(R"("dtype": "F128", "shape": [1], "data_offsets": [0, 16])",
                           Code::kInvalidArgument, {"tensor 'w': unknown dtype 'F128'"}));
  // Names are case-sensitive, as in the reference implementation.
  EXPECT_TRUE(RejectsEntry(R"("dtype": "f32", "shape": [1], "data_offsets": [0, 4])",
                           Code::kInvalidArgument, {"unknown dtype 'f32'"}));
}

TEST_F(Malformed, NegativeShape) {
  EXPECT_TRUE(RejectsEntry(R"("dtype": "F32", "shape": [2, -1], "data_offsets": [0, 4])",
                           Code::kInvalidArgument,
                           {"tensor 'w': shape entry 1 is -1, expected a non-negative integer"}));
}

TEST_F(Malformed, NonIntegerShape) {
  EXPECT_TRUE(RejectsEntry(R"("dtype": "F32", "shape": [2.5], "data_offsets": [0, 8])",
                           Code::kInvalidArgument, {"shape entry 0 is 2.5"}));
  EXPECT_TRUE(RejectsEntry(R"("dtype": "F32", "shape": ["2"], "data_offsets": [0, 8])",
                           Code::kInvalidArgument, {"shape entry 0 is \"2\""}));
  EXPECT_TRUE(RejectsEntry(R"("dtype": "F32", "shape": [true], "data_offsets": [0, 4])",
                           Code::kInvalidArgument, {"shape entry 0 is true"}));
  // Beyond int64.
  EXPECT_TRUE(
      RejectsEntry(R"("dtype": "U8", "shape": [18446744073709551615], "data_offsets": [0, 4])",
                   Code::kInvalidArgument, {"shape entry 0 is 18446744073709551615"}));
}

TEST_F(Malformed, OffsetsNotBeginEndPair) {
  for (const char* offsets : {"[4]", "[0, 4, 8]", "[0.0, 4]", "[-4, 0]", "[0, \"4\"]",
                              "[0, 18446744073709551615]", "4"}) {
    SCOPED_TRACE(offsets);
    EXPECT_TRUE(RejectsEntry(
        std::string(R"("dtype": "F32", "shape": [1], "data_offsets": )") + offsets,
        Code::kInvalidArgument, {"tensor 'w': \"data_offsets\" is", "expected [begin, end]"}));
  }
}

TEST_F(Malformed, OffsetsBeginAfterEnd) {
  EXPECT_TRUE(RejectsEntry(R"("dtype": "F32", "shape": [0], "data_offsets": [8, 4])",
                           Code::kInvalidArgument, {"data_offsets [8, 4] has begin > end"}));
}

TEST_F(Malformed, OffsetsBeyondDataBuffer) {
  EXPECT_TRUE(RejectsEntry(R"("dtype": "F32", "shape": [2], "data_offsets": [1000, 1008])",
                           Code::kDataLoss,
                           {"tensor 'w': data_offsets [1000, 1008] extend beyond the data "
                            "buffer of 64 bytes"}));
}

TEST_F(Malformed, OverlappingTensors) {
  const std::string json = R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                "b": {"dtype": "I32", "shape": [2], "data_offsets": [4, 12]}})";
  EXPECT_TRUE(Rejects(safetensors_image(json, 12), Code::kInvalidArgument,
                      {"tensors 'a' [0, 8) and 'b' [4, 12) overlap"}));
  // One tensor inside another, listed first by name.
  const std::string nested = R"({"a": {"dtype": "U8", "shape": [2], "data_offsets": [2, 4]},
                                  "b": {"dtype": "U8", "shape": [8], "data_offsets": [0, 8]}})";
  EXPECT_TRUE(Rejects(safetensors_image(nested, 8), Code::kInvalidArgument, {"overlap"}));
}

TEST_F(Malformed, ByteCountMismatch) {
  EXPECT_TRUE(RejectsEntry(R"("dtype": "F32", "shape": [3], "data_offsets": [0, 8])",
                           Code::kInvalidArgument,
                           {"tensor 'w': dtype F32 with shape [3] needs 12 bytes but "
                            "data_offsets [0, 8] span 8"}));
}

TEST_F(Malformed, DuplicateTensorName) {
  const std::string json = R"({"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},
                                "w": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}})";
  EXPECT_TRUE(Rejects(safetensors_image(json, 2), Code::kInvalidArgument,
                      {"tensor name 'w' appears twice"}));
}

TEST_F(Malformed, DuplicateKeyInsideEntryOrMetadata) {
  EXPECT_TRUE(RejectsEntry(R"("dtype": "F32", "dtype": "U8", "shape": [1], "data_offsets": [0, 4])",
                           Code::kInvalidArgument, {"duplicate key 'dtype'"}));
  EXPECT_TRUE(Rejects(safetensors_image(R"({"__metadata__": {"k": "a", "k": "b"}})"),
                      Code::kInvalidArgument, {"duplicate key 'k'"}));
}

TEST_F(Malformed, MetadataNotAStringMap) {
  EXPECT_TRUE(Rejects(safetensors_image(R"({"__metadata__": ["a"]})"), Code::kInvalidArgument,
                      {"\"__metadata__\" is a JSON array, expected an object of strings"}));
  EXPECT_TRUE(Rejects(safetensors_image(R"({"__metadata__": {"step": 10}})"),
                      Code::kInvalidArgument,
                      {"\"__metadata__\" value for key 'step' is a JSON number"}));
  EXPECT_TRUE(Rejects(safetensors_image(R"({"__metadata__": {"k": {"x": "y"}}})"),
                      Code::kInvalidArgument, {"value for key 'k' is a JSON object"}));
}

TEST_F(Malformed, TruncatedData) {
  const std::string path = dir_.file("good.safetensors");
  ASSERT_TRUE(save_safetensors(path, {{"w", Tensor::ones({4, 4})}}).ok());
  std::string bytes = read_bytes(path);
  ASSERT_TRUE(SafetensorsFile::Open(path).ok());
  bytes.resize(bytes.size() - 1);
  EXPECT_TRUE(Rejects(bytes, Code::kDataLoss,
                      {"tensor 'w': data_offsets [0, 64] extend beyond the data buffer of 63 "
                       "bytes (file truncated?)"}));
}

TEST_F(Malformed, NumelOverflow) {
  EXPECT_TRUE(RejectsEntry(
      R"("dtype": "U8", "shape": [4294967296, 4294967296], "data_offsets": [0, 0])",
      Code::kInvalidArgument, {"tensor 'w': shape [4294967296,4294967296] overflows"}));
  // Empty, but its strides would still overflow int64.
  EXPECT_TRUE(
      RejectsEntry(R"("dtype": "U8", "shape": [0, 4611686018427387904, 4], "data_offsets": [0, 0])",
                   Code::kInvalidArgument, {"overflows the element count"}));
  // Elements fit, bytes do not.
  EXPECT_TRUE(
      RejectsEntry(R"("dtype": "F64", "shape": [2305843009213693952], "data_offsets": [0, 0])",
                   Code::kInvalidArgument, {"overflows the byte count"}));
}

TEST_F(Malformed, HostileNameIsEscapedInTheMessage) {
  EXPECT_TRUE(Rejects(safetensors_image("{\"a\\nb\": 3}"), Code::kInvalidArgument,
                      {"tensor 'a\\x0ab': entry"}));
}

TEST_F(Malformed, NotARegularFileOrMissing) {
  EXPECT_TRUE(StatusIs(SafetensorsFile::Open(dir_.path()).status(), Code::kInvalidArgument,
                       {dir_.path(), "not a regular file"}));
  const std::string missing = dir_.file("missing.safetensors");
  EXPECT_TRUE(
      StatusIs(SafetensorsFile::Open(missing).status(), Code::kNotFound, {missing, "cannot open"}));
}

// Lenient where the format allows it: gaps, trailing bytes, any key order, empty tensors at
// any offset, unknown extra fields, padding spaces.
TEST_F(Malformed, AcceptsUnusualButValidLayouts) {
  const std::string json = R"({"z": {"dtype": "U8", "shape": [2], "data_offsets": [6, 8]},
      "e": {"shape": [0, 3], "data_offsets": [7, 7], "dtype": "F32", "extra": [1]},
      "a": {"dtype": "BOOL", "shape": [0], "data_offsets": [0, 0]}})";
  const std::string path = dir_.file("ok.safetensors");
  write_bytes(path, safetensors_image(std::string(json) + "        ", 10));
  auto file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->names(), (std::vector<std::string>{"a", "z", "e"}));  // data order
  auto z = file->load("z");
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->to_vector<uint8_t>(), (std::vector<uint8_t>{0x11, 0x11}));
  auto e = file->load("e");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->shape(), (Shape{0, 3}));
}

TEST_F(Malformed, EmptyHeaderIsAValidEmptyFile) {
  const std::string path = dir_.file("empty.safetensors");
  write_bytes(path, le64(8) + "{}      ");
  auto file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE(file->names().empty());
  EXPECT_TRUE(file->metadata().empty());
}

}  // namespace
}  // namespace chorus
