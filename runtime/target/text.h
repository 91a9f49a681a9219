#pragma once
// Small text helpers the target's parsers and writers share: numbers in and out of decimal and
// hex, and ASCII case. HTTP's own tokens are ASCII, so locale-aware functions would only cost
// time and surprise.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cicada::target {

void append_decimal(std::string& out, uint64_t value);
void append_hex(std::string& out, uint64_t value);

// Plain decimal only: no sign, no spaces, nothing after the digits, and no value beyond uint64_t.
std::optional<uint64_t> parse_decimal(std::string_view text);

// 0..15 for a hex digit of either case, -1 for anything else.
int hex_digit_value(char c);

inline char to_lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equals_ignoring_case(std::string_view a, std::string_view b);
// True for an empty `needle`.
bool contains_ignoring_case(std::string_view haystack, std::string_view needle);

}  // namespace cicada::target
