#include "runtime/target/text.h"

#include <algorithm>
#include <charconv>

namespace cicada::target {

namespace {

bool equal_ignoring_case(char a, char b) { return to_lower_ascii(a) == to_lower_ascii(b); }

template <int Base>
void append_number(std::string& out, uint64_t value) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value, Base);
  out.append(digits, result.ptr);
}

}  // namespace

void append_decimal(std::string& out, uint64_t value) { append_number<10>(out, value); }

void append_hex(std::string& out, uint64_t value) { append_number<16>(out, value); }

std::optional<uint64_t> parse_decimal(std::string_view text) {
  // from_chars takes no sign for unsigned types and reports overflow, so only the digits and the
  // end are left to check.
  uint64_t value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || result.ec != std::errc() || result.ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), equal_ignoring_case);
}

bool contains_ignoring_case(std::string_view haystack, std::string_view needle) {
  return needle.empty() ||
         std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(), equal_ignoring_case) !=
             haystack.end();
}

}  // namespace cicada::target
