#include <doctest/doctest.h>

#include <string>

#include "runtime/target/stall.h"

using cicada::target::parse_stall;
using cicada::target::StallClock;
using cicada::target::StallSchedule;

namespace {

constexpr uint64_t kSecond = 1'000'000'000;

}  // namespace

TEST_CASE("--stall D/P: by default each period ends with its stall") {
  std::string error;
  auto stall = parse_stall("1s/10s", error);
  REQUIRE(stall);
  CHECK(stall->duration_ns == kSecond);
  CHECK(stall->period_ns == 10 * kSecond);
  CHECK(stall->start_ns == 9 * kSecond);
  CHECK_FALSE(stall->stall_end(0));
  CHECK_FALSE(stall->stall_end(9 * kSecond - 1));
  CHECK(*stall->stall_end(9 * kSecond) == 10 * kSecond);
  CHECK(*stall->stall_end(9 * kSecond + kSecond / 2) == 10 * kSecond);
  CHECK_FALSE(stall->stall_end(10 * kSecond));
  CHECK(*stall->stall_end(19 * kSecond + 1) == 20 * kSecond);

  CHECK(parse_stall("250ms/1", error));
  CHECK_FALSE(parse_stall("1s", error));
  CHECK_FALSE(parse_stall("10s/10s", error));
  CHECK(error.find("less than its period") != std::string::npos);
  CHECK_FALSE(parse_stall("0s/10s", error));
  CHECK_FALSE(parse_stall("x/10s", error));
}

TEST_CASE("the stall clock starts with the first request, on any thread") {
  StallSchedule schedule{kSecond, 10 * kSecond, 4 * kSecond};
  StallClock clock(schedule);
  const uint64_t first = 1000 * kSecond;
  CHECK_FALSE(clock.hold_until(first));
  CHECK_FALSE(clock.hold_until(first + 3 * kSecond));
  CHECK(*clock.hold_until(first + 4 * kSecond) == first + 5 * kSecond);
  CHECK(*clock.hold_until(first + 4 * kSecond + 999'999'999) == first + 5 * kSecond);
  CHECK_FALSE(clock.hold_until(first + 5 * kSecond));
  CHECK(*clock.hold_until(first + 14 * kSecond + 1) == first + 15 * kSecond);

  StallClock disabled(StallSchedule{});
  CHECK_FALSE(disabled.hold_until(first));
}
