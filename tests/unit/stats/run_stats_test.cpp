#include "runtime/stats/run_stats.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>

using cicada::stats::EntryKey;
using cicada::stats::RunStats;
using cicada::stats::StatsBook;

namespace {

StatsBook delta_of(const std::string& method, const std::string& name, int requests, int failures) {
  StatsBook book;
  for (int i = 0; i < requests; ++i) book.record_request(method, name, 1000, 10, i < failures ? "HTTP 500" : "");
  return book;
}

}  // namespace

TEST_CASE("run stats: merge_delta accumulates the run's totals") {
  RunStats run;
  run.merge_delta(delta_of("GET", "/a", 3, 1));
  run.merge_delta(delta_of("GET", "/a", 2, 0));
  run.merge_delta(delta_of("POST", "/b", 4, 4));
  CHECK(run.book().find("GET", "/a")->num_requests == 5);
  CHECK(run.book().find("GET", "/a")->num_failures == 1);
  CHECK(run.book().find("POST", "/b")->num_failures == 4);
  CHECK(run.book().total().num_requests == 9);
  CHECK(run.book().total().num_failures == 5);
}

TEST_CASE("run stats: current rates average the closed seconds") {
  RunStats run;
  const EntryKey a{"GET", "/a"};
  const EntryKey b{"POST", "/b"};

  // Nothing closed yet: no rate, even with requests pending.
  run.merge_delta(delta_of("GET", "/a", 10, 2));
  CHECK(run.current_rps(nullptr) == 0.0);
  CHECK(run.current_rps(&a) == 0.0);
  CHECK(run.current_fail_per_sec(&a) == 0.0);
  CHECK(run.current_rps(&b) == 0.0);  // unknown entry

  run.close_second();
  CHECK(run.current_rps(&a) == 10.0);
  CHECK(run.current_fail_per_sec(&a) == 2.0);
  CHECK(run.current_rps(nullptr) == 10.0);
  CHECK(run.current_fail_per_sec(nullptr) == 2.0);

  // Two workers reporting within the same second add up.
  run.merge_delta(delta_of("GET", "/a", 12, 0));
  run.merge_delta(delta_of("GET", "/a", 8, 1));
  run.close_second();
  CHECK(run.current_rps(&a) == 15.0);
  CHECK(run.current_fail_per_sec(&a) == 1.5);

  // An entry first seen now counts as idle during the seconds already closed.
  run.merge_delta(delta_of("POST", "/b", 6, 3));
  run.close_second();
  CHECK(run.current_rps(&b) == 2.0);
  CHECK(run.current_fail_per_sec(&b) == 1.0);
  CHECK(run.current_rps(&a) == 10.0);  // (10 + 20 + 0) / 3
  CHECK(run.current_rps(nullptr) == 12.0);  // (10 + 20 + 6) / 3
  CHECK(run.current_fail_per_sec(nullptr) == 2.0);  // (2 + 1 + 3) / 3
}

TEST_CASE("run stats: only the last kCurrentWindowSeconds seconds count") {
  static_assert(RunStats::kCurrentWindowSeconds == 10);
  RunStats run;
  const EntryKey a{"GET", "/a"};
  for (int second = 1; second <= 15; ++second) {
    run.merge_delta(delta_of("GET", "/a", second, second / 5));
    run.close_second();
  }
  // Seconds 6..15 remain: requests 6..15, failures 1,1,1,1,2,2,2,2,2,3.
  CHECK(run.current_rps(&a) == 10.5);
  CHECK(run.current_fail_per_sec(&a) == 1.7);
  CHECK(run.current_rps(nullptr) == 10.5);

  // Traffic stops: the rate decays to zero as idle seconds push the busy ones out.
  for (int idle = 0; idle < 9; ++idle) run.close_second();
  CHECK(run.current_rps(&a) == 1.5);  // only second 15 left
  run.close_second();
  CHECK(run.current_rps(&a) == 0.0);
  CHECK(run.current_rps(nullptr) == 0.0);
  CHECK(run.book().find("GET", "/a")->num_requests == 120);  // totals are not windowed
}

TEST_CASE("run stats: total rates over the run's duration") {
  RunStats run;
  run.merge_delta(delta_of("GET", "/a", 30, 3));
  const auto& total = run.book().total();
  CHECK(run.duration_s() == 0.0);
  CHECK(run.total_rps(total) == 0.0);  // no division by zero
  CHECK(run.total_fail_per_sec(total) == 0.0);

  run.set_start_time(100.0);
  run.note_time(99.0);  // clock before start: duration stays 0
  CHECK(run.duration_s() == 0.0);
  CHECK(run.total_rps(total) == 0.0);

  run.note_time(112.0);
  CHECK(run.duration_s() == 12.0);
  CHECK(run.total_rps(total) == 2.5);
  CHECK(run.total_fail_per_sec(total) == 0.25);
  CHECK(run.total_rps(*run.book().find("GET", "/a")) == 2.5);
}

TEST_CASE("run stats: reset forgets everything and restarts the clock") {
  RunStats run;
  const EntryKey a{"GET", "/a"};
  run.set_start_time(10.0);
  run.merge_delta(delta_of("GET", "/a", 5, 5));
  run.close_second();
  run.merge_delta(delta_of("GET", "/a", 7, 0));  // pending, dropped by the reset
  run.note_time(20.0);
  REQUIRE(run.current_rps(&a) == 5.0);

  run.reset(20.0);
  CHECK(run.book().empty());
  CHECK(run.duration_s() == 0.0);
  CHECK(run.current_rps(&a) == 0.0);
  CHECK(run.current_rps(nullptr) == 0.0);

  run.merge_delta(delta_of("GET", "/a", 4, 1));
  run.close_second();
  run.note_time(22.0);
  CHECK(run.current_rps(&a) == 4.0);
  CHECK(run.current_rps(nullptr) == 4.0);
  CHECK(run.total_rps(run.book().total()) == 2.0);
  CHECK(run.book().total().num_failures == 1);
}
