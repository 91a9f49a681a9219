#include "runtime/http/request_writer.h"

#include <strings.h>

#include <charconv>

namespace cicada::http {

namespace {

bool equals_ci(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

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

}  // namespace

void RequestWriter::start(std::string_view method, std::string_view target) {
  out_.clear();
  out_.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  body_expected_ = method == "POST" || method == "PUT" || method == "PATCH";
}

bool RequestWriter::header(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (unsigned char c : name)
    if (!is_token_char(c)) return false;
  for (unsigned char c : value)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  if (equals_ci(name, "host")) has_host_ = true;
  else if (equals_ci(name, "user-agent")) has_user_agent_ = true;
  else if (equals_ci(name, "accept")) has_accept_ = true;
  else if (equals_ci(name, "content-type")) has_content_type_ = true;
  else if (equals_ci(name, "content-length")) has_content_length_ = true;
  else if (equals_ci(name, "transfer-encoding")) has_transfer_encoding_ = true;
  out_.append(name).append(": ").append(value).append("\r\n");
  return true;
}

void RequestWriter::finish(std::string_view host_header, std::string_view user_agent, std::string_view body,
                           std::string_view content_type) {
  if (!has_host_) out_.append("Host: ").append(host_header).append("\r\n");
  if (!has_user_agent_) out_.append("User-Agent: ").append(user_agent).append("\r\n");
  if (!has_accept_) out_.append("Accept: */*\r\n");
  if (!has_content_type_ && !content_type.empty() && !body.empty())
    out_.append("Content-Type: ").append(content_type).append("\r\n");
  if (!has_content_length_ && !has_transfer_encoding_ && (!body.empty() || body_expected_)) {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, body.size());
    (void)ec;
    out_.append("Content-Length: ").append(digits, end).append("\r\n");
  }
  out_.append("\r\n").append(body);
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
