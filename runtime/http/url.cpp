#include "runtime/http/url.h"

#include <array>
#include <cctype>
#include <charconv>
#include <vector>

namespace cicada::http {

namespace {

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  return true;
}

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// What a byte of a request target is: RFC 3986 unreserved and reserved characters go as they
// are; '%' when it starts an escape; controls are refused; the rest is percent-encoded. A
// table, because every request's target goes through it.
enum TargetByte : unsigned char { kEncode = 0, kKeep = 1, kPercent = 2, kControl = 3, kFragment = 4 };

constexpr std::array<unsigned char, 256> make_target_bytes() {
  std::array<unsigned char, 256> table{};
  for (int c = 0; c < 256; ++c) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    table[c] = alnum ? kKeep : kEncode;
    if (c < 0x20 || c == 0x7f) table[c] = kControl;
  }
  for (char c : std::string_view("-._~!$&'()*+,;=:@/?[]")) table[static_cast<unsigned char>(c)] = kKeep;
  table['%'] = kPercent;
  table['#'] = kFragment;
  return table;
}

constexpr std::array<unsigned char, 256> kTargetBytes = make_target_bytes();

bool is_escape_at(std::string_view text, std::size_t i) {
  return i + 2 < text.size() && is_hex(text[i + 1]) && is_hex(text[i + 2]);
}

}  // namespace

bool encode_request_target(std::string& target) {
  // Most targets need nothing: one pass over a table, and only then a new string.
  const char* bytes = target.data();
  const std::size_t size = target.size();
  std::size_t first = size;  // the first byte that needs work
  for (std::size_t i = 0; i < size; ++i) {
    const unsigned char kind = kTargetBytes[static_cast<unsigned char>(bytes[i])];
    if (kind == kKeep) [[likely]] continue;
    if (kind == kControl) return false;
    if (kind == kPercent && is_escape_at(target, i)) continue;
    if (first == size) first = i;
    if (kind == kFragment) break;
  }
  if (first == size) return true;
  const std::size_t end = std::min(target.find('#', first), target.size());
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded(target, 0, first);
  encoded.reserve(end + 16);
  const std::string_view text(target.data(), end);
  for (std::size_t i = first; i < end; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const unsigned char kind = kTargetBytes[c];
    if (kind == kKeep || (kind == kPercent && is_escape_at(text, i))) {
      encoded.push_back(static_cast<char>(c));
    } else {
      encoded.push_back('%');
      encoded.push_back(kHex[c >> 4]);
      encoded.push_back(kHex[c & 15]);
    }
  }
  target.swap(encoded);
  return true;
}

std::string Url::host_header() const {
  std::string out = ipv6_literal ? "[" + host + "]" : host;
  if (port != default_port()) out += ":" + std::to_string(port);
  return out;
}

bool is_absolute_url(std::string_view text) {
  return starts_with_ci(text, "http://") || starts_with_ci(text, "https://");
}

std::optional<Url> parse_url(std::string_view text, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<Url> {
    if (error) *error = why;
    return std::nullopt;
  };
  Url url;
  std::string_view rest;
  if (starts_with_ci(text, "http://")) {
    url.scheme = "http";
    rest = text.substr(7);
  } else if (starts_with_ci(text, "https://")) {
    url.scheme = "https";
    rest = text.substr(8);
  } else {
    return fail("URL must start with http:// or https://: '" + std::string(text) + "'");
  }

  std::size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view path = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) return fail("user:password@ in URLs is not supported: '" + std::string(text) + "'");

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("unterminated IPv6 address in '" + std::string(text) + "'");
    url.host = std::string(authority.substr(1, close - 1));
    url.ipv6_literal = true;
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("unexpected text after IPv6 address in '" + std::string(text) + "'");
      port_text = after.substr(1);
    }
  } else {
    std::size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      url.host = std::string(authority.substr(0, colon));
      port_text = authority.substr(colon + 1);
    } else {
      url.host = std::string(authority);
    }
  }
  if (url.host.empty()) return fail("missing host in URL '" + std::string(text) + "'");
  // RFC 3986's reg-name: unreserved and sub-delims (no percent-encoding: names are ASCII here);
  // an IPv6 literal: hex digits, ':' and '.'. Anything else (a second ':', a space, CR/LF) is
  // not a host a request may name.
  for (unsigned char c : url.host) {
    const bool allowed = url.ipv6_literal ? (std::isxdigit(c) || c == ':' || c == '.')
                                          : (std::isalnum(c) || std::string_view("-._~!$&'()*+,;=").find(static_cast<char>(c)) !=
                                                                    std::string_view::npos);
    if (!allowed) return fail("invalid character in the host of URL '" + std::string(text) + "'");
  }
  for (char& c : url.host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));

  url.port = url.default_port();
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || value == 0 || value > 65535)
      return fail("bad port in URL '" + std::string(text) + "'");
    url.port = static_cast<std::uint16_t>(value);
  }

  std::size_t fragment = path.find('#');
  if (fragment != std::string_view::npos) path = path.substr(0, fragment);
  if (path.empty() || path.front() != '/') {
    url.path = "/";
    url.path += path;
  } else {
    url.path = std::string(path);
  }
  return url;
}

std::optional<Url> resolve_reference(const Url& base, std::string_view reference, std::string* error) {
  while (!reference.empty() && (reference.front() == ' ' || reference.front() == '\t')) reference.remove_prefix(1);
  while (!reference.empty() && (reference.back() == ' ' || reference.back() == '\t')) reference.remove_suffix(1);
  if (is_absolute_url(reference)) return parse_url(reference, error);
  if (reference.starts_with("//")) return parse_url(base.scheme + ":" + std::string(reference), error);
  if (auto colon = reference.find(':'); colon != std::string_view::npos && reference.find('/') > colon) {
    if (error) *error = "redirect to an unsupported scheme: '" + std::string(reference) + "'";
    return std::nullopt;
  }
  Url resolved = base;
  if (std::size_t fragment = reference.find('#'); fragment != std::string_view::npos) reference = reference.substr(0, fragment);
  std::string_view base_path = std::string_view(base.path).substr(0, base.path.find('?'));
  if (reference.empty()) {
    resolved.path = base.path;
  } else if (reference.front() == '/') {
    resolved.path = std::string(reference);
  } else if (reference.front() == '?') {
    resolved.path = std::string(base_path) + std::string(reference);
  } else {
    // Relative to the base's directory, with "." and ".." segments removed.
    std::string merged(base_path.substr(0, base_path.rfind('/') + 1));
    std::string_view query;
    if (auto q = reference.find('?'); q != std::string_view::npos) {
      query = reference.substr(q);
      reference = reference.substr(0, q);
    }
    merged.append(reference);
    std::vector<std::string_view> segments;
    std::string_view rest = std::string_view(merged).substr(1);
    bool trailing_slash = false;
    while (true) {
      std::size_t slash = rest.find('/');
      std::string_view segment = rest.substr(0, slash);
      trailing_slash = slash == std::string_view::npos && (segment == "." || segment == "..");
      if (segment == "..") {
        if (!segments.empty()) segments.pop_back();
      } else if (segment != ".") {
        segments.push_back(segment);
      }
      if (slash == std::string_view::npos) break;
      rest.remove_prefix(slash + 1);
    }
    std::string path;
    for (std::string_view segment : segments) path.append("/").append(segment);
    if (path.empty() || trailing_slash) path.push_back('/');
    resolved.path = path + std::string(query);
  }
  return resolved;
}

std::string to_string(const Url& url) { return url.scheme + "://" + url.host_header() + url.path; }

void append_query_encoded(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
}

}  // namespace cicada::http
