#include <cstdint>
#include <doctest/doctest.h>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/common/text.h"

using namespace cicada::common;

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

TEST_CASE("whitespace trimming takes spaces and tabs only") {
  CHECK(trim_whitespace(" \t a b \t") == "a b");
  CHECK(trim_whitespace("   ").empty());
  CHECK(trim_whitespace("").empty());
  CHECK(trim_whitespace("\na\n") == "\na\n");
}

namespace {

std::optional<std::string> base64_decoded(std::string_view text) {
  std::string out;
  if (!append_base64_decoded(out, text)) return std::nullopt;
  return out;
}

}  // namespace

TEST_CASE("base64 decoding, with or without padding") {
  CHECK(base64_decoded("") == "");
  CHECK(base64_decoded("dXNlcjpwYXNz") == "user:pass");
  CHECK(base64_decoded("YQ==") == "a");
  CHECK(base64_decoded("YQ") == "a");
  CHECK(base64_decoded("YWI=") == "ab");
  CHECK(base64_decoded("YWI") == "ab");
  CHECK(base64_decoded("+/+/") == "\xFB\xFF\xBF");
  CHECK(base64_decoded("AAA=") == std::string("\0\0", 2));
  for (const char* bad : {"Y", "YQ=", "Y===", "=", "YQ==YQ==", "dXNl cjpw", "dXNl-jpw", "dXNl_jpw", "YQ=\n"}) {
    INFO(bad);
    CHECK_FALSE(base64_decoded(bad));
  }
}

TEST_CASE("HTTP tokens") {
  CHECK(is_http_token("X-Custom-Header"));
  CHECK(is_http_token("!#$%&'*+-.^_`|~09azAZ"));
  for (const char* bad : {"", "a b", "a:b", "a;b", "a\"b", "a,b", "a/b", "a=b", "a\tb", "\xC3\xA9"}) {
    INFO(bad);
    CHECK_FALSE(is_http_token(bad));
  }
  CHECK_FALSE(is_http_token(std::string("a\0b", 3)));
}

TEST_CASE("header values refuse control characters but tab") {
  CHECK(is_field_value(""));
  CHECK(is_field_value("text/plain; charset=utf-8"));
  CHECK(is_field_value("a\tb \xC3\xA9"));
  const std::initializer_list<std::string> bad_values = {"a\rb", "a\nb", std::string("a\0b", 3), "\x7F", "\x1B[0m"};
  for (const std::string& bad : bad_values) {
    CHECK_FALSE(is_field_value(bad));
  }
}

TEST_CASE("cookie values are RFC 6265 cookie-octets") {
  CHECK(is_cookie_value(""));
  CHECK(is_cookie_value("abc123!#$%&'()*+-./:<=>?@[]^_`{|}~"));
  for (const char* bad : {"a b", "a\"b", "a,b", "a;b", "a\\b", "a\tb", "\xC3\xA9", "\x7F"}) {
    INFO(bad);
    CHECK_FALSE(is_cookie_value(bad));
  }
}

TEST_CASE("Host headers that an absolute URL can be built from") {
  for (const char* good : {"127.0.0.1:8080", "localhost", "[::1]:80", "my-host.example_1"}) {
    INFO(good);
    CHECK(is_host_and_port(good));
  }
  for (const char* bad : {"", "a/b", "a?b", "a#b", "user@host", "a b", "a\rb", "h\xC3\xA9"}) {
    INFO(bad);
    CHECK_FALSE(is_host_and_port(bad));
  }
}
