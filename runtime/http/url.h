#pragma once
// Just enough URL handling for an HTTP client: split an absolute http(s) URL, join a base URL
// with a request path, and percent-encode query parameters.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cicada::http {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6 literals
  std::uint16_t port = 0;
  std::string path;    // path + query, always starting with '/'
  bool ipv6_literal = false;

  bool is_tls() const { return scheme == "https"; }
  std::uint16_t default_port() const { return is_tls() ? 443 : 80; }
  // "host", "host:port", "[::1]:port": the Host header value, port omitted when default.
  std::string host_header() const;
};

// Parses "http://host[:port][/path][?query]". On failure returns nullopt and sets `error`.
std::optional<Url> parse_url(std::string_view text, std::string* error);

bool is_absolute_url(std::string_view text);

// Resolves a Location header against the URL it came from (RFC 3986 5.2, the common forms):
// absolute URLs, "//host/path", "/path", "relative/path", "?query".
std::optional<Url> resolve_reference(const Url& base, std::string_view reference, std::string* error);

// Path and query back to text: "http://host:port/path?q" (port omitted when default).
std::string to_string(const Url& url);

// Makes a request target (path and query) safe to put on the request line, as python-requests'
// requote_uri does: spaces, non-ASCII bytes and the other characters outside RFC 3986's set are
// percent-encoded; reserved characters and "%XX" escapes already there are kept; a '%' that
// starts no escape becomes "%25"; a fragment ("#...") is dropped, as clients never send it.
// Control characters (below 0x20, and 0x7F) cannot be made safe: returns false and leaves
// `target` as it was, so that the caller raises an error rather than split the request.
bool encode_request_target(std::string& target);

// Appends `text` percent-encoded for a query component (RFC 3986 unreserved kept).
void append_query_encoded(std::string& out, std::string_view text);

}  // namespace cicada::http
