#include <doctest/doctest.h>

#include "runtime/runner/user_ramp.h"

using cicada::runner::RampStep;
using cicada::runner::UserDistribution;
using cicada::runner::UserRamp;

namespace {

int count(const std::map<int, std::map<int, int>>& changes) {
  int total = 0;
  for (const auto& [thread, classes] : changes)
    for (const auto& [cls, n] : classes) total += n;
  return total;
}

}  // namespace

TEST_CASE("a ramp up starts one user at once, then `rate` a second, and stops at the target") {
  UserDistribution plan({1}, 2);
  UserRamp ramp;
  REQUIRE(ramp.set_target(10, 4, {}, 100.0));
  RampStep step = ramp.step(100.0, plan);
  CHECK(count(step.spawn) == 1);
  CHECK_FALSE(step.reached);
  step = ramp.step(101.0, plan);  // 1 + 4
  CHECK(count(step.spawn) == 4);
  CHECK(plan.total() == 5);
  step = ramp.step(101.0, plan);  // nothing new is due
  CHECK(count(step.spawn) == 0);
  step = ramp.step(110.0, plan);
  CHECK(plan.total() == 10);
  CHECK(step.reached);
  CHECK(ramp.tick_s() == 0.25);
}

TEST_CASE("a ramp down stops users at the rate, and the same target again changes nothing") {
  UserDistribution plan({1, 1}, 2);
  UserRamp ramp;
  ramp.set_target(8, 100, {}, 0.0);
  ramp.step(1.0, plan);
  REQUIRE(plan.total() == 8);
  CHECK_FALSE(ramp.set_target(8, 100, {}, 5.0));
  REQUIRE(ramp.set_target(2, 2, {}, 10.0));
  RampStep step = ramp.step(10.0, plan);
  CHECK(count(step.stop) == 1);
  step = ramp.step(11.0, plan);
  CHECK(count(step.stop) == 2);
  CHECK(plan.total() == 5);
  step = ramp.step(20.0, plan);
  CHECK(plan.total() == 2);
  CHECK(plan.class_count(0) == 1);
  CHECK(plan.class_count(1) == 1);
  CHECK(step.reached);
}

TEST_CASE("switching classes swaps users at the rate, alternating, so the total stays near the target") {
  UserDistribution plan({1, 1}, 1);
  UserRamp ramp;
  ramp.set_target(4, 1000, {true, false}, 0.0);
  ramp.step(1.0, plan);
  REQUIRE(plan.class_count(0) == 4);
  REQUIRE(ramp.set_target(4, 1, {false, true}, 10.0));
  int highest = 0;
  for (int second = 0; second <= 10; ++second) {
    ramp.step(10.0 + second, plan);
    highest = std::max(highest, plan.total());
  }
  CHECK(plan.class_count(0) == 0);
  CHECK(plan.class_count(1) == 4);
  CHECK(highest <= 5);
}

TEST_CASE("users that ended on their own are not replaced, and a ramp down forgets them first") {
  UserDistribution plan({1}, 1);
  UserRamp ramp;
  ramp.set_target(3, 100, {}, 0.0);
  ramp.step(1.0, plan);
  REQUIRE(plan.mark_ended(0, 0));
  RampStep step = ramp.step(2.0, plan);
  CHECK(count(step.spawn) == 0);
  CHECK(step.reached);
  CHECK(plan.live_total() == 2);
  // Down to 2: the ended user is forgotten, no live user is stopped.
  ramp.set_target(2, 100, {}, 3.0);
  step = ramp.step(4.0, plan);
  CHECK(count(step.stop) == 0);
  CHECK(step.reached);
  CHECK(plan.total() == 2);
  CHECK(plan.live_total() == 2);
  // Up again: new users.
  ramp.set_target(4, 100, {}, 5.0);
  step = ramp.step(6.0, plan);
  CHECK(count(step.spawn) == 2);
  CHECK(plan.live_total() == 4);
}

TEST_CASE("a fixed_count class whose users ended is not filled up again") {
  UserDistribution plan({1}, 1, {2});
  UserRamp ramp;
  ramp.set_target(2, 100, {}, 0.0);
  ramp.step(1.0, plan);
  REQUIRE(plan.mark_ended(0, 0));
  REQUIRE(plan.mark_ended(0, 0));
  CHECK_FALSE(plan.mark_ended(0, 0));  // no live user left there
  CHECK(plan.live_total() == 0);
  RampStep step = ramp.step(5.0, plan);
  CHECK(count(step.spawn) == 0);
  CHECK(plan.live_class_count(0) == 0);
}

TEST_CASE("fixed_count classes cap what a ramp can reach") {
  UserDistribution plan({1}, 1, {2});
  UserRamp ramp;
  ramp.set_target(5, 100, {}, 0.0);
  RampStep step = ramp.step(1.0, plan);
  CHECK(step.capped);
  CHECK(step.reached);
  CHECK(plan.total() == 2);
}
