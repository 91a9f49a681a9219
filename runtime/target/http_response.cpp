#include "runtime/target/http_response.h"

#include "runtime/common/text.h"
#include "runtime/http/response.h"

namespace cicada::target {

// The text and JSON helpers shared with the rest of the runtime (runtime/common).
using namespace cicada::common;

void append_response_head(std::string& out, const ResponseHead& head) {
  out += "HTTP/1.1 ";
  append_decimal(out, head.status);
  out += ' ';
  out += status_text(head.status);
  out += "\r\nServer: cicada-target\r\n";
  if (!head.content_type.empty()) {
    out += "Content-Type: ";
    out += head.content_type;
    out += "\r\n";
  }
  switch (head.framing) {
    case Framing::content_length:
      out += "Content-Length: ";
      append_decimal(out, head.content_length);
      out += "\r\n";
      break;
    case Framing::chunked: out += "Transfer-Encoding: chunked\r\n"; break;
    case Framing::none: break;
  }
  switch (head.connection) {
    case ConnectionHeader::omit: break;
    case ConnectionHeader::keep_alive: out += "Connection: keep-alive\r\n"; break;
    case ConnectionHeader::close: out += "Connection: close\r\n"; break;
  }
  out += head.extra_header_lines;
  out += "\r\n";
}

std::string_view status_text(unsigned status) {
  std::string_view reason = http::reason_phrase(static_cast<int>(status));
  return reason.empty() ? std::string_view("Unknown") : reason;
}

}  // namespace cicada::target
