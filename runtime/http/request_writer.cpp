#include "runtime/http/request_writer.h"

#include <charconv>
#include <cstring>

#include "runtime/common/text.h"

namespace cicada::http {

namespace {

struct KnownName {
  std::string_view name;
  HeaderBlock::Known flag;
};

constexpr KnownName kKnownNames[] = {
    {"host", HeaderBlock::kHost},
    {"user-agent", HeaderBlock::kUserAgent},
    {"accept", HeaderBlock::kAccept},
    {"accept-encoding", HeaderBlock::kAcceptEncoding},
    {"content-type", HeaderBlock::kContentType},
    {"content-length", HeaderBlock::kContentLength},
    {"transfer-encoding", HeaderBlock::kTransferEncoding},
    {"cookie", HeaderBlock::kCookie},
    {"authorization", HeaderBlock::kAuthorization},
};

std::uint32_t flag_of(std::string_view name) {
  for (const KnownName& known : kKnownNames)
    if (common::equals_ignoring_case(name, known.name)) return known.flag;
  return 0;
}

}  // namespace

bool is_token_char(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '.':
    case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool HeaderBlock::add(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (unsigned char c : name)
    if (!is_token_char(c)) return false;
  // Control characters other than a tab would end the line or confuse the server (CR, LF and
  // NUL split or cut the request): refused, never sent.
  for (unsigned char c : value)
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  known_ |= flag_of(name);
  lines_.append(name).append(": ").append(value).append("\r\n");
  return true;
}

void HeaderBlock::remove(std::string_view name) {
  std::string kept;
  std::string_view rest = lines_;
  while (!rest.empty()) {
    std::size_t end = rest.find("\r\n");
    std::string_view line = rest.substr(0, end + 2);
    rest.remove_prefix(line.size());
    if (!common::equals_ignoring_case(line.substr(0, line.find(':')), name)) kept.append(line);
  }
  lines_.swap(kept);
  known_ &= ~flag_of(name);
}

namespace {

// compose_request's two passes: the first counts the bytes, the second writes them into a string
// sized once (a request is a dozen short pieces; appending them one by one cost more than the
// copying).
struct CountingSink {
  std::size_t size = 0;
  void put(std::string_view text) { size += text.size(); }
};

struct WritingSink {
  char* cursor;
  void put(std::string_view text) {
    if (text.empty()) return;  // an empty view may have no data pointer, which memcpy must not get
    std::memcpy(cursor, text.data(), text.size());
    cursor += text.size();
  }
};

template <class Sink>
void write_request(Sink& sink, const ComposeInput& in, const HeaderBlock& headers, std::string_view content_length) {
  sink.put(in.method);
  sink.put(" ");
  sink.put(in.target);
  sink.put(" HTTP/1.1\r\n");
  sink.put(headers.lines());
  if (!headers.has(HeaderBlock::kHost)) {
    sink.put("Host: ");
    sink.put(in.host_header);
    sink.put("\r\n");
  }
  if (!headers.has(HeaderBlock::kUserAgent)) {
    sink.put("User-Agent: ");
    sink.put(in.user_agent);
    sink.put("\r\n");
  }
  if (!headers.has(HeaderBlock::kAccept)) sink.put("Accept: */*\r\n");
  if (in.accept_encoding && !headers.has(HeaderBlock::kAcceptEncoding)) sink.put("Accept-Encoding: gzip, deflate\r\n");
  if (!in.cookie.empty() && !headers.has(HeaderBlock::kCookie)) {
    sink.put("Cookie: ");
    sink.put(in.cookie);
    sink.put("\r\n");
  }
  if (!headers.has(HeaderBlock::kContentType) && !in.content_type.empty() && !in.body.empty()) {
    sink.put("Content-Type: ");
    sink.put(in.content_type);
    sink.put("\r\n");
  }
  if (!content_length.empty()) {
    sink.put("Content-Length: ");
    sink.put(content_length);
    sink.put("\r\n");
  }
  sink.put("\r\n");
  sink.put(in.body);
}

}  // namespace

void compose_request(std::string& out, const ComposeInput& in, const HeaderBlock& headers) {
  char digits[24];
  std::string_view content_length;
  bool body_expected = in.method == "POST" || in.method == "PUT" || in.method == "PATCH";
  if (!headers.has(HeaderBlock::kContentLength) && !headers.has(HeaderBlock::kTransferEncoding) &&
      (!in.body.empty() || body_expected)) {
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, in.body.size());
    (void)ec;
    content_length = std::string_view(digits, static_cast<std::size_t>(end - digits));
  }
  CountingSink counter;
  write_request(counter, in, headers, content_length);
  out.resize(counter.size);
  WritingSink writer{out.data()};
  write_request(writer, in, headers, content_length);
}

void join_target(std::string& out, std::string_view base_path, std::string_view path) {
  std::string_view prefix = base_path;
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  out.assign(prefix);
  if (path.empty() || path.front() == '?') {
    if (out.empty()) out.push_back('/');
  } else if (path.front() != '/') {
    out.push_back('/');
  }
  out.append(path);
}

}  // namespace cicada::http
