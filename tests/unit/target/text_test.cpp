#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "runtime/target/text.h"

using namespace cicada::target;

TEST_CASE("decimal and hex numbers are written without padding") {
  std::string out;
  append_decimal(out, 0);
  out += ' ';
  append_decimal(out, UINT64_MAX);
  out += ' ';
  append_hex(out, 4096);
  CHECK(out == "0 18446744073709551615 1000");
}

TEST_CASE("parse_decimal takes plain digits only") {
  CHECK(parse_decimal("0") == 0u);
  CHECK(parse_decimal("418") == 418u);
  CHECK(parse_decimal("007") == 7u);
  CHECK(parse_decimal("18446744073709551615") == UINT64_MAX);
  CHECK_FALSE(parse_decimal("18446744073709551616"));  // one past the largest
  CHECK_FALSE(parse_decimal("99999999999999999999999"));
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1a", "0x10", "1.5"}) {
    INFO(bad);
    CHECK_FALSE(parse_decimal(bad));
  }
}

TEST_CASE("hex digits of either case") {
  CHECK(hex_digit_value('0') == 0);
  CHECK(hex_digit_value('9') == 9);
  CHECK(hex_digit_value('a') == 10);
  CHECK(hex_digit_value('F') == 15);
  CHECK(hex_digit_value('g') == -1);
  CHECK(hex_digit_value('%') == -1);
}

TEST_CASE("ASCII case is ignored, other bytes compare as they are") {
  CHECK(to_lower_ascii('Q') == 'q');
  CHECK(to_lower_ascii('[') == '[');
  CHECK(equals_ignoring_case("100-Continue", "100-continue"));
  CHECK_FALSE(equals_ignoring_case("100-continue", "100-continu"));
  CHECK_FALSE(equals_ignoring_case("\xC3\x89", "\xC3\xA9"));  // É and é: not ASCII
  CHECK(contains_ignoring_case("Nightly Build #1", "build"));
  CHECK(contains_ignoring_case("anything", ""));
  CHECK(contains_ignoring_case("", ""));
  CHECK_FALSE(contains_ignoring_case("unit tests", "builds"));
  CHECK_FALSE(contains_ignoring_case("", "a"));
}
