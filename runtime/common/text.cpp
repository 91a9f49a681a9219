#include "runtime/common/text.h"

#include <algorithm>
#include <charconv>

namespace cicada::common {

namespace {

bool equal_ignoring_case(char a, char b) { return to_lower_ascii(a) == to_lower_ascii(b); }

bool is_ascii_alphanumeric(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7F; }

// 0..63 for a character of the standard base64 alphabet, -1 for anything else.
int base64_digit_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

template <typename Predicate>
bool all_bytes(std::string_view text, Predicate predicate) {
  return std::all_of(text.begin(), text.end(), [&](char c) { return predicate(static_cast<unsigned char>(c)); });
}

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

std::string_view trim_whitespace(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

std::string_view trim_space(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  const size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

std::string lowercase_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = to_lower_ascii(c);
  return out;
}

bool append_base64_decoded(std::string& out, std::string_view text) {
  if (text.size() % 4 == 0 && text.ends_with('=')) text.remove_suffix(text.ends_with("==") ? 2 : 1);
  // One leftover character carries 6 bits, less than a byte: no encoder produces that.
  if (text.size() % 4 == 1) return false;
  uint32_t bits = 0;
  int pending_bits = 0;
  for (const char c : text) {
    const int value = base64_digit_value(c);
    if (value < 0) return false;
    bits = ((bits << 6) | static_cast<uint32_t>(value)) & 0xFFFFFF;
    pending_bits += 6;
    if (pending_bits >= 8) {
      pending_bits -= 8;
      out += static_cast<char>((bits >> pending_bits) & 0xFF);
    }
  }
  return true;
}

bool is_http_token(std::string_view text) {
  constexpr std::string_view kTokenPunctuation = "!#$%&'*+-.^_`|~";
  return !text.empty() && all_bytes(text, [&](unsigned char c) {
    return is_ascii_alphanumeric(c) || kTokenPunctuation.find(static_cast<char>(c)) != std::string_view::npos;
  });
}

bool is_field_value(std::string_view text) {
  return all_bytes(text, [](unsigned char c) { return c == '\t' || !is_control(c); });
}

bool is_cookie_value(std::string_view text) {
  return all_bytes(text, [](unsigned char c) {
    return c > ' ' && c < 0x7F && c != '"' && c != ',' && c != ';' && c != '\\';
  });
}

bool is_host_and_port(std::string_view text) {
  // RFC 3986 unreserved and sub-delims, '%' for pct-encoding, ':' and brackets for ports and
  // IPv6 literals.
  constexpr std::string_view kHostPunctuation = "-._~!$&'()*+,;=%:[]";
  return !text.empty() && all_bytes(text, [&](unsigned char c) {
    return is_ascii_alphanumeric(c) || kHostPunctuation.find(static_cast<char>(c)) != std::string_view::npos;
  });
}

}  // namespace cicada::common
