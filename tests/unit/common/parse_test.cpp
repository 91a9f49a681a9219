#include <doctest/doctest.h>

#include "runtime/common/parse.h"

using namespace cicada::common;

TEST_CASE("durations accept Locust's forms") {
  CHECK(parse_duration("30s") == doctest::Approx(30));
  CHECK(parse_duration("5m") == doctest::Approx(300));
  CHECK(parse_duration("1h30m") == doctest::Approx(5400));
  CHECK(parse_duration("2h") == doctest::Approx(7200));
  CHECK(parse_duration("90") == doctest::Approx(90));
  CHECK(parse_duration("1.5s") == doctest::Approx(1.5));
  CHECK(parse_duration("250ms") == doctest::Approx(0.25));
  CHECK(parse_duration("1m30s") == doctest::Approx(90));
  CHECK_FALSE(parse_duration(""));
  CHECK_FALSE(parse_duration("abc"));
  CHECK_FALSE(parse_duration("10x"));
  CHECK_FALSE(parse_duration("m"));
  CHECK_FALSE(parse_duration("-5"));
}

TEST_CASE("arrival rates: per second by default, or per unit of time") {
  CHECK(parse_rate("500") == doctest::Approx(500));
  CHECK(parse_rate("500/s") == doctest::Approx(500));
  CHECK(parse_rate(" 30 / m ") == doctest::Approx(0.5));
  CHECK(parse_rate("7200/h") == doctest::Approx(2));
  CHECK(parse_rate("10/100ms") == doctest::Approx(100));
  CHECK(parse_rate("6/2s") == doctest::Approx(3));
  CHECK(parse_rate("0") == doctest::Approx(0));
  CHECK_FALSE(parse_rate(""));
  CHECK_FALSE(parse_rate("fast"));
  CHECK_FALSE(parse_rate("5/"));
  CHECK_FALSE(parse_rate("5/x"));
  CHECK_FALSE(parse_rate("5/0s"));
  CHECK_FALSE(parse_rate("5/10"));  // a bare number is not a unit
  CHECK_FALSE(parse_rate("-5/s"));
}
