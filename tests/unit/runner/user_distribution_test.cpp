#include <doctest/doctest.h>

#include <cmath>
#include <numeric>

#include "runtime/runner/user_distribution.h"

using cicada::runner::UserDistribution;

TEST_CASE("the class mix follows the weights at every user count") {
  std::vector<int> weights{3, 1, 6};
  UserDistribution plan(weights, 2);
  for (int n = 1; n <= 200; ++n) {
    plan.add();
    for (int c = 0; c < 3; ++c) {
      double share = static_cast<double>(weights[static_cast<std::size_t>(c)]) * n / 10.0;
      // Never more than one user away from the exact share.
      CHECK(std::abs(plan.class_count(c) - share) < 1.0 + 1e-9);
    }
  }
  CHECK(plan.class_count(0) == 60);
  CHECK(plan.class_count(1) == 20);
  CHECK(plan.class_count(2) == 120);
}

TEST_CASE("threads stay balanced and weight-0 classes get no users") {
  UserDistribution plan({1, 0}, 3);
  for (int n = 0; n < 10; ++n) {
    auto placement = plan.add();
    REQUIRE(placement);
    CHECK(placement->class_index == 0);
  }
  CHECK(plan.thread_count(0) == 4);
  CHECK(plan.thread_count(1) == 3);
  CHECK(plan.thread_count(2) == 3);
  CHECK(plan.class_count(1) == 0);
}

TEST_CASE("removing users keeps the mix and empties evenly") {
  UserDistribution plan({1, 1}, 2);
  for (int n = 0; n < 10; ++n) plan.add();
  for (int n = 10; n > 0; --n) {
    auto removed = plan.remove();
    REQUIRE(removed);
    CHECK(std::abs(plan.class_count(0) - plan.class_count(1)) <= 1);
  }
  CHECK(plan.total() == 0);
  CHECK_FALSE(plan.remove());
}

TEST_CASE("iteration budgets add up to the total and follow the users per thread") {
  auto budgets = UserDistribution::split_iterations({1}, 2, 3, 1000);
  CHECK(std::accumulate(budgets.begin(), budgets.end(), std::int64_t{0}) == 1000);
  CHECK(budgets[0] == 667);  // 2 of the 3 users
  CHECK(budgets[1] == 333);

  auto one_user = UserDistribution::split_iterations({1}, 4, 1, 7);
  CHECK(one_user == std::vector<std::int64_t>{7, 0, 0, 0});

  auto few = UserDistribution::split_iterations({1}, 2, 10, 3);
  CHECK(std::accumulate(few.begin(), few.end(), std::int64_t{0}) == 3);
}

TEST_CASE("fixed-count classes get exactly their count, first") {
  // Classes: A weight 1, B fixed 2, C weight 3.
  UserDistribution plan({1, 1, 3}, 2, {0, 2, 0});
  auto first = plan.add();
  auto second = plan.add();
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first->class_index == 1);
  CHECK(second->class_index == 1);
  for (int n = 0; n < 40; ++n) REQUIRE(plan.add());
  CHECK(plan.class_count(1) == 2);
  CHECK(plan.class_count(0) == 10);
  CHECK(plan.class_count(2) == 30);

  UserDistribution only_fixed({1}, 1, {3});
  CHECK(only_fixed.add());
  CHECK(only_fixed.add());
  CHECK(only_fixed.add());
  CHECK_FALSE(only_fixed.add());  // nothing can take a fourth user
  CHECK(only_fixed.total() == 3);
  auto budgets = UserDistribution::split_iterations({1}, 2, 10, 100, {3});
  CHECK(budgets[0] + budgets[1] == 100);
}

TEST_CASE("invalid plans are rejected") {
  CHECK_THROWS(UserDistribution({}, 1));
  CHECK_THROWS(UserDistribution({0, 0}, 1));
  CHECK_THROWS(UserDistribution({1}, 0));
}

TEST_CASE("inactive classes get no new users and lose theirs first") {
  UserDistribution plan({1, 1, 2}, 2);
  for (int i = 0; i < 8; ++i) plan.add();
  REQUIRE(plan.class_count(2) == 4);
  plan.set_active_classes({true, true, false});
  CHECK(plan.active_total() == 4);
  for (int i = 0; i < 4; ++i) {
    auto removed = plan.remove();
    REQUIRE(removed);
    CHECK(removed->class_index == 2);
  }
  for (int i = 0; i < 4; ++i) CHECK(plan.add()->class_index != 2);
  CHECK(plan.class_count(0) == 4);
  CHECK(plan.class_count(1) == 4);
}

TEST_CASE("ended users keep their place until a removal forgets them, before any live user") {
  UserDistribution plan({1, 1}, 2);
  for (int i = 0; i < 4; ++i) plan.add();
  CHECK(plan.mark_ended(1, 1));
  CHECK(plan.live_total() == 3);
  CHECK(plan.live_class_count(1) == 1);
  CHECK_FALSE(plan.mark_ended(3, 0));
  auto removed = plan.remove();
  REQUIRE(removed);
  CHECK(removed->ended);
  CHECK(removed->class_index == 1);
  CHECK(removed->thread == 1);
  CHECK(plan.total() == 3);
  CHECK(plan.live_total() == 3);
  removed = plan.remove();
  REQUIRE(removed);
  CHECK_FALSE(removed->ended);
}
