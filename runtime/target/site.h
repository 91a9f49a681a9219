#pragma once
// Another site on the target's HTTP server: a listener created with a Site answers every
// request through it instead of the target's endpoints, with the same connection code
// (parsing, limits, pipelining, flow control, lingering close). The web UI (runtime/web) is one.
// Answers are produced at once, on the server's loop.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/target/endpoints.h"

namespace cicada::target {

struct SiteRequest {
  std::string_view method;  // "GET", "POST", ...
  RequestTarget target;     // path and raw query
  HeaderFields headers;     // names lower-cased
  std::string_view body;    // kept only when Site::reads_body said so
  bool body_too_large = false;  // it was longer than Site::max_body_bytes() and was dropped
};

struct SiteAnswer {
  unsigned status = 200;
  std::string content_type = std::string(kTextPlainType);
  std::string body;
  std::string header_lines;  // complete lines, each ending in "\r\n"

  static constexpr std::string_view kTextPlainType = "text/plain; charset=utf-8";
};

class Site {
 public:
  virtual ~Site() = default;
  // Whether the body of this request is kept for answer(); others are read and dropped.
  virtual bool reads_body(std::string_view method, std::string_view path) const = 0;
  // The longest body kept; a longer one is dropped and the request marked body_too_large.
  virtual std::size_t max_body_bytes() const { return 64 * 1024; }
  virtual void answer(const SiteRequest& request, SiteAnswer& answer) = 0;
};

}  // namespace cicada::target
