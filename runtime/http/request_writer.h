#pragma once
// Serializes an HTTP/1.1 request into a reusable buffer. Caller headers come first; the
// defaults (Host, User-Agent, Accept, Content-Type for JSON, Content-Length) are added only
// where the caller did not give them, so any default can be overridden.
#include <string>
#include <string_view>

namespace cicada::http {

class RequestWriter {
 public:
  explicit RequestWriter(std::string& out) : out_(out) {}

  void start(std::string_view method, std::string_view target);
  // False when the name or value could smuggle a header (CR, LF, NUL) or the name is empty
  // or holds characters a token cannot.
  bool header(std::string_view name, std::string_view value);
  // `content_type` is used when the caller gave none and it is non-empty.
  void finish(std::string_view host_header, std::string_view user_agent, std::string_view body,
              std::string_view content_type);

 private:
  std::string& out_;
  bool body_expected_ = false;
  bool has_host_ = false;
  bool has_user_agent_ = false;
  bool has_accept_ = false;
  bool has_content_type_ = false;
  bool has_content_length_ = false;
  bool has_transfer_encoding_ = false;
};

// Builds the request target for `path` against the base URL's path prefix, as Locust does
// (base "http://h/api" + "/items" = "/api/items"), then appends the query string.
void join_target(std::string& out, std::string_view base_path, std::string_view path);

}  // namespace cicada::http
