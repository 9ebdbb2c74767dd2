// CHORUS_OP_PROFILE (core/tensor/op_profile.h) through the ops dispatch's bookkeeping: kernel calls
// are counted by name, nested calls are listed but not added twice to the total, reset() clears,
// and the report's totals add up.
#include "core/tensor/op_profile.h"

#include <gtest/gtest.h>

#include <thread>

#include "core/ops/elementwise.h"
#include "core/tensor/tensor.h"

namespace chorus {
namespace {

class OpProfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    profile::set_mode(profile::Mode::kHost);
    profile::reset();
  }
  void TearDown() override {
    profile::set_mode(profile::Mode::kOff);
    profile::reset();
  }
};

const profile::Entry* find(const std::vector<profile::Entry>& es, const std::string& name) {
  for (const auto& e : es) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

TEST_F(OpProfileTest, CountsKernelCallsByName) {
  const Tensor a = Tensor::full({64}, 1.0, DType::kF32);
  const Tensor b = Tensor::full({64}, 2.0, DType::kF32);
  for (int i = 0; i < 3; ++i) (void)add(a, b);
  const auto es = profile::entries();
  int64_t binary = 0;
  for (const auto& e : es) {
    if (e.name.find("binary") != std::string::npos) binary += e.calls;
  }
  EXPECT_EQ(binary, 3) << profile::report(1.0);
}

TEST_F(OpProfileTest, OffRecordsNothing) {
  profile::set_mode(profile::Mode::kOff);
  const Tensor a = Tensor::full({8}, 1.0, DType::kF32);
  (void)add(a, a);
  { const profile::Scope s("manual", Device::cpu()); }
  EXPECT_TRUE(profile::entries().empty());
}

TEST_F(OpProfileTest, NestedScopesAreNotCountedTwice) {
  {
    const profile::Scope outer("outer", Device::cpu());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    {
      const profile::Scope inner("inner", Device::cpu());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  const auto es = profile::entries();
  const auto* outer = find(es, "outer");
  const auto* inner = find(es, "inner");
  ASSERT_NE(outer, nullptr);
  ASSERT_NE(inner, nullptr);
  EXPECT_GE(outer->seconds, 0.040);
  EXPECT_GE(inner->seconds, 0.020);
  EXPECT_EQ(inner->top_level_seconds, 0.0);
  EXPECT_EQ(outer->top_level_seconds, outer->seconds);
  EXPECT_EQ(es.front().name, "outer");  // sorted by total time

  // The report's first line sums top-level time only: outer's, not outer + inner.
  const std::string r = profile::report(outer->seconds);
  EXPECT_NE(r.find("2 calls"), std::string::npos) << r;
  EXPECT_NE(r.find("(100.0%)"), std::string::npos) << r;
}

TEST_F(OpProfileTest, ResetClears) {
  { const profile::Scope s("x", Device::cpu()); }
  ASSERT_EQ(profile::entries().size(), 1u);
  profile::reset();
  EXPECT_TRUE(profile::entries().empty());
}

}  // namespace
}  // namespace chorus
