#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "runtime/vu/arrival_schedule.h"

using cicada::vu::ArrivalSchedule;
using cicada::vu::RateSegment;
using cicada::vu::ThreadArrivals;

namespace {

constexpr double kForever = std::numeric_limits<double>::infinity();

ArrivalSchedule constant(double rate, double end_s = kForever) { return ArrivalSchedule({{kForever, rate, rate}}, end_s); }

// Every time a ThreadArrivals yields, in order.
std::vector<double> times_of(ThreadArrivals arrivals, std::size_t at_most = 1'000'000) {
  std::vector<double> times;
  while (arrivals.next() && times.size() < at_most) {
    times.push_back(*arrivals.next());
    arrivals.advance();
  }
  return times;
}

}  // namespace

TEST_CASE("a constant rate: the n-th iteration is due at n / rate, exactly, however far") {
  const ArrivalSchedule schedule = constant(500);
  CHECK(*schedule.time_of(0) == 0.0);
  CHECK(*schedule.time_of(1) == doctest::Approx(0.002));
  CHECK(*schedule.time_of(499) == doctest::Approx(0.998));
  // No drift after a billion iterations: the time is computed from n, not summed.
  CHECK(*schedule.time_of(1'000'000'000) == doctest::Approx(2'000'000.0).epsilon(1e-15));
  CHECK(schedule.due_before(1.0) == 500);
  CHECK(schedule.due_before(10.0) == 5000);
  CHECK(schedule.due_before(0.0021) == 2);  // iterations 0 and 1
  CHECK(schedule.peak_rate() == 500);
}

TEST_CASE("the end: nothing is due at or after it, and due_before counts what is due before it") {
  const ArrivalSchedule schedule = constant(200, 10.0);
  CHECK(schedule.time_of(1999).has_value());
  CHECK_FALSE(schedule.time_of(2000).has_value());  // due at exactly 10 s: not any more
  CHECK(schedule.due_before(10.0) == 2000);
  CHECK(schedule.due_before(60.0) == 2000);
  CHECK(schedule.length_s() == 10.0);
  // Awkward rates do not gain or lose one at the end.
  CHECK(constant(0.1 * 3, 10).due_before(10) == 3);
  CHECK(constant(10000, 10).due_before(10) == 100000);
}

TEST_CASE("threads share the iterations: thread t of T takes n = t, t + T, ... and together they take all") {
  const ArrivalSchedule schedule = constant(1000, 2.0);
  std::vector<double> all;
  for (int t = 0; t < 3; ++t) {
    const std::vector<double> mine = times_of(ThreadArrivals(schedule, t, 3, -1));
    CHECK(mine.size() == (t < 2 ? 667u : 666u));
    for (std::size_t i = 0; i < mine.size(); ++i)
      CHECK(mine[i] == doctest::Approx(static_cast<double>(t + 3 * static_cast<int>(i)) / 1000.0));
    all.insert(all.end(), mine.begin(), mine.end());
  }
  CHECK(all.size() == 2000);
}

TEST_CASE("--iterations limits the threads' shares") {
  const ArrivalSchedule schedule = constant(100);
  std::size_t total = 0;
  for (int t = 0; t < 4; ++t) {
    const auto mine = times_of(ThreadArrivals(schedule, t, 4, 10));
    CHECK(static_cast<std::int64_t>(mine.size()) == ThreadArrivals::share_of(10, t, 4));
    total += mine.size();
  }
  CHECK(total == 10);
  CHECK(ThreadArrivals::share_of(10, 0, 4) == 3);
  CHECK(ThreadArrivals::share_of(10, 3, 4) == 2);
  CHECK(ThreadArrivals::share_of(2, 3, 4) == 0);
}

TEST_CASE("a linear ramp: as many iterations as the area under the rate, spaced as the rate says") {
  // 0 -> 200/s over 2 s (200 iterations), then 200/s for 1 s (200 more).
  const ArrivalSchedule schedule({{2.0, 0, 200}, {1.0, 200, 200}}, kForever);
  CHECK(schedule.expected_arrivals(2.0) == doctest::Approx(200));
  CHECK(schedule.due_before(3.0) == 400);
  CHECK(schedule.length_s() == 3.0);
  CHECK_FALSE(schedule.time_of(400).has_value());
  // Λ(t) = 50 t² in the ramp: the n-th is due at sqrt(n / 50).
  CHECK(*schedule.time_of(50) == doctest::Approx(1.0));
  CHECK(*schedule.time_of(200) == doctest::Approx(2.0));
  CHECK(*schedule.time_of(300) == doctest::Approx(2.5));
  // Times only grow.
  const auto times = times_of(ThreadArrivals(schedule, 0, 1, -1));
  REQUIRE(times.size() == 400);
  for (std::size_t i = 1; i < times.size(); ++i) CHECK(times[i] > times[i - 1]);
}

TEST_CASE("a ramp down, a jump, and a pause at rate 0") {
  // 100/s -> 0 over 2 s (100 iterations), nothing for 1 s, then a jump to 50/s for 2 s.
  const ArrivalSchedule schedule({{2.0, 100, 0}, {1.0, 0, 0}, {0.0, 0, 50}, {2.0, 50, 50}}, kForever);
  CHECK(schedule.due_before(2.0) == 100);
  CHECK(schedule.due_before(3.0) == 100);
  CHECK(schedule.due_before(5.0) == 200);
  const auto times = times_of(ThreadArrivals(schedule, 0, 1, -1));
  REQUIRE(times.size() == 200);
  CHECK(times[99] < 2.0);
  CHECK(times[100] == doctest::Approx(3.0));  // nothing during the pause
  CHECK(schedule.peak_rate() == 100);
}

TEST_CASE("a rate that stays 0 asks for nothing") {
  const ArrivalSchedule schedule = constant(0);
  CHECK_FALSE(schedule.time_of(0).has_value());
  CHECK(schedule.due_before(100) == 0);
}
