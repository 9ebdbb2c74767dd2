// Where a tensor's storage lives: the host ("cpu") or one CUDA device ("cuda:N").
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace chorus {

class Device {
 public:
  enum class Kind : uint8_t { kCpu, kCuda };

  constexpr Device() = default;
  static constexpr Device cpu() { return Device(Kind::kCpu, 0); }
  static constexpr Device cuda(int index = 0) { return Device(Kind::kCuda, index); }

  // Accepts "cpu", "cuda" (= cuda:0) and "cuda:N".
  static absl::StatusOr<Device> Parse(std::string_view text);

  constexpr Kind kind() const { return kind_; }
  constexpr int index() const { return index_; }
  constexpr bool is_cpu() const { return kind_ == Kind::kCpu; }
  constexpr bool is_cuda() const { return kind_ == Kind::kCuda; }
  std::string ToString() const;

  friend constexpr bool operator==(Device a, Device b) = default;

 private:
  constexpr Device(Kind kind, int index) : kind_(kind), index_(index) {}
  Kind kind_ = Kind::kCpu;
  int index_ = 0;
};

}  // namespace chorus
