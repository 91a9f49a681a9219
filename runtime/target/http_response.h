#pragma once
// Writing HTTP/1.1 response heads straight into a connection's output buffer.

#include <cstdint>
#include <string>
#include <string_view>

namespace cicada::target {

enum class ConnectionHeader {
  omit,        // HTTP/1.1 keep-alive: the default needs no header
  keep_alive,  // an HTTP/1.0 client asked to keep the connection and must be told it may
  close,
};

enum class Framing {
  content_length,
  chunked,
  none,  // 204 and 304 carry no body and must not announce a length
};

struct ResponseHead {
  unsigned status = 200;
  std::string_view content_type;  // empty: no Content-Type header
  Framing framing = Framing::content_length;
  uint64_t content_length = 0;
  ConnectionHeader connection = ConnectionHeader::omit;
  std::string_view extra_header_lines;  // complete lines, each ending in "\r\n"
};

inline constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";
inline constexpr std::string_view kApplicationJson = "application/json";
inline constexpr std::string_view kOctetStream = "application/octet-stream";

// The reason phrase for the status line: the registered one, or "Unknown".
std::string_view status_text(unsigned status);

// Appends the status line, headers and the blank line that ends them.
void append_response_head(std::string& out, const ResponseHead& head);

}  // namespace cicada::target
