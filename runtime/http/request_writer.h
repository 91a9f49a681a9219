#pragma once
// Serializing HTTP/1.1 requests. The caller's headers are validated once into a HeaderBlock;
// compose_request() then writes the request line, those headers, and the defaults (Host,
// User-Agent, Accept, Accept-Encoding, Cookie, Content-Type, Content-Length) the caller did not
// give, so any default can be overridden. A redirect composes again from the same block.
#include <cstdint>
#include <string>
#include <string_view>

namespace cicada::http {

// RFC 9110 tchar: what header names and methods are made of.
bool is_token_char(unsigned char c);

class HeaderBlock {
 public:
  enum Known : std::uint32_t {
    kHost = 1 << 0,
    kUserAgent = 1 << 1,
    kAccept = 1 << 2,
    kAcceptEncoding = 1 << 3,
    kContentType = 1 << 4,
    kContentLength = 1 << 5,
    kTransferEncoding = 1 << 6,
    kCookie = 1 << 7,
    kAuthorization = 1 << 8,
  };

  void clear() {
    lines_.clear();
    known_ = 0;
  }
  // False when the name or value could smuggle a header (CR, LF, NUL) or the name is empty
  // or holds characters a token cannot.
  bool add(std::string_view name, std::string_view value);
  // Drops every header with this name (case-insensitive).
  void remove(std::string_view name);
  bool has(Known header) const { return (known_ & header) != 0; }
  std::string_view lines() const { return lines_; }

 private:
  std::string lines_;  // "Name: value\r\n" ...
  std::uint32_t known_ = 0;
};

struct ComposeInput {
  std::string_view method;
  std::string_view target;       // path and query
  std::string_view host_header;
  std::string_view user_agent;
  std::string_view cookie;       // the jar's Cookie value for this request ("" = none)
  std::string_view body;
  std::string_view content_type;  // for the body, when the caller gave none
  bool accept_encoding = true;    // announce gzip and deflate (responses are decoded)
};

void compose_request(std::string& out, const ComposeInput& input, const HeaderBlock& headers);

// Builds the request target for `path` against the base URL's path prefix, as Locust does
// (base "http://h/api" + "/items" = "/api/items"), then appends the query string.
void join_target(std::string& out, std::string_view base_path, std::string_view path);

}  // namespace cicada::http
