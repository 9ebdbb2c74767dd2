#include "core/tensor/device.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace chorus {

absl::StatusOr<Device> Device::Parse(std::string_view text) {
  if (text == "cpu") return cpu();
  if (text == "cuda") return cuda(0);
  if (text.starts_with("cuda:")) {
    int index = -1;
    if (absl::SimpleAtoi(std::string(text.substr(5)), &index) && index >= 0) return cuda(index);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("bad device '", std::string(text), "': expected 'cpu', 'cuda' or 'cuda:N'"));
}

std::string Device::ToString() const {
  return is_cpu() ? std::string("cpu") : absl::StrCat("cuda:", index_);
}

}  // namespace chorus
