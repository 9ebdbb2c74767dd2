// A badly behaved plugin that throws instead of returning Status, everywhere it can. The host
// must turn every exception into a Status; none may reach the caller.
//   option "fail_in": "decoder_factory" | "encoder_factory" | "decode" | "collate" | "encode"
#include <stdexcept>

#include "chorus/plugin.h"

namespace {

using chorus::plugin::Options;

class ThrowingDecoder : public chorus::plugin::Decoder {
 public:
  explicit ThrowingDecoder(std::string fail_in) : fail_in_(std::move(fail_in)) {}
  absl::StatusOr<chorus::data::Sample> decode_file(
      const std::string& path, const chorus::data::DecodeOptions& o) const override {
    return decode_bytes(path, o);
  }
  absl::StatusOr<chorus::data::Sample> decode_bytes(
      std::string_view bytes, const chorus::data::DecodeOptions&) const override {
    if (fail_in_ == "decode") CHORUS_CHECK(false, "thrower cannot decode ", bytes);
    chorus::data::Sample s;
    s.tensors["x"] = chorus::Tensor::ones({2});
    return s;
  }
  absl::StatusOr<chorus::data::Batch> collate(
      const std::vector<chorus::data::Sample>& samples) const override {
    if (fail_in_ == "collate") throw std::out_of_range("thrower collate out of range");
    chorus::data::Batch b;
    b.size = static_cast<int64_t>(samples.size());
    return b;
  }

 private:
  std::string fail_in_;
};

class ThrowingEncoder : public chorus::plugin::Encoder {
 public:
  ThrowingEncoder(int64_t width, bool lie_about_width)
      : Encoder("ThrowingEncoder"), width_(lie_about_width ? width + 1 : width) {}
  absl::StatusOr<chorus::plugin::EncoderOutput> encode(const chorus::data::Batch&) override {
    throw std::runtime_error("thrower encode failed");
  }
  int64_t shared_width() const override { return width_; }

 private:
  int64_t width_;
};

const chorus::plugin::Descriptor* Describe() {
  static const chorus::plugin::Descriptor descriptor = [] {
    chorus::plugin::Descriptor d;
    d.name = "thrower";
    d.version = "0.0.1";
    d.description = "throws everywhere (host test)";
    d.option_schema = []() -> chorus::plugin::OptionSchema {
      return {{.name = "fail_in",
               .type = chorus::plugin::OptionType::kString,
               .default_value = "decode",
               .doc = "where to throw",
               .choices = {"decoder_factory", "encoder_factory", "decode", "collate", "encode",
                           "width"}}};
    };
    d.make_decoder =
        [](const Options& o) -> absl::StatusOr<std::unique_ptr<chorus::plugin::Decoder>> {
      if (o.at("fail_in") == "decoder_factory") throw std::runtime_error("thrower factory failed");
      return std::make_unique<ThrowingDecoder>(o.at("fail_in").get<std::string>());
    };
    d.make_encoder = [](const chorus::plugin::EncoderConfig& c)
        -> absl::StatusOr<std::unique_ptr<chorus::plugin::Encoder>> {
      if (c.options.at("fail_in") == "encoder_factory") throw 42;  // not even a std::exception
      return std::make_unique<ThrowingEncoder>(c.shared_width, c.options.at("fail_in") == "width");
    };
    return d;
  }();
  return &descriptor;
}

}  // namespace

CHORUS_PLUGIN(Describe)
