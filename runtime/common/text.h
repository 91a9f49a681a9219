#pragma once
// Small text helpers the runtime's parsers and writers share: numbers in and out of decimal and
// hex, ASCII case, base64, and the character classes of HTTP's grammar that decide whether client
// text may go into a response header. HTTP's own tokens are ASCII, so locale-aware functions
// would only cost time and surprise.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cicada::common {

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

// `text` without the spaces and horizontal tabs around it (HTTP's optional whitespace).
std::string_view trim_whitespace(std::string_view text);
// `text` without any ASCII white space around it (also CR, LF, VT, FF): config lines, thresholds.
std::string_view trim_space(std::string_view text);
// `text` with ASCII letters in lower case; other bytes unchanged.
std::string lowercase_ascii(std::string_view text);

// Appends the bytes that base64 `text` (RFC 4648, standard alphabet) encodes. The padding may be
// left off, as some clients do; anything else outside the alphabet makes it false, with `out`
// then holding an unspecified prefix.
bool append_base64_decoded(std::string& out, std::string_view text);

// A header name, a cookie name: one or more RFC 9110 tchar ("!#$%&'*+-.^_`|~", digits, letters).
bool is_http_token(std::string_view text);
// Text that can stand in a header value without ending or corrupting the header: no control
// characters (CR, LF, NUL and the rest) other than horizontal tab.
bool is_field_value(std::string_view text);
// What RFC 6265 allows as a cookie value (cookie-octets, possibly none): no controls, spaces,
// '"', ',', ';' or a backslash.
bool is_cookie_value(std::string_view text);
// A Host header an absolute URL can be built from: host and optional port in RFC 3986's
// characters (names, IPv4, "[IPv6]"), and nothing that would end the authority ('/', '?', '#',
// '@', spaces).
bool is_host_and_port(std::string_view text);

}  // namespace cicada::common
