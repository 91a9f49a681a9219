// libFuzzer target: what a script can put into a request (runtime/http/request_writer.cpp):
// header names and values, the method and the target. Property: whatever is accepted, the
// composed request is exactly one request to llhttp, with the accepted headers and no others
// (no request splitting, no header injection).
#include <llhttp.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/http/request_writer.h"
#include "runtime/http/url.h"

using namespace cicada::http;

namespace {

struct Parsed {
  int messages = 0;
  int headers = 0;
};

int on_header_field_complete(llhttp_t* parser) {
  ++static_cast<Parsed*>(parser->data)->headers;
  return 0;
}

int on_message_complete(llhttp_t* parser) {
  ++static_cast<Parsed*>(parser->data)->messages;
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Fields separated by '\x01': method, target, then header name/value pairs.
  std::vector<std::string_view> fields;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (true) {
    const std::size_t cut = rest.find('\x01');
    fields.push_back(rest.substr(0, cut));
    if (cut == std::string_view::npos) break;
    rest.remove_prefix(cut + 1);
  }
  std::string method(fields[0]);
  if (method.empty()) return 0;
  for (unsigned char c : method)
    if (!is_token_char(c)) return 0;  // the binding refuses such a method
  // llhttp reads "PRI" as the start of HTTP/2's connection preface, whatever follows: its
  // refusal can come after the request line, and says nothing about injection.
  if (method == "PRI") return 0;
  std::string target = fields.size() > 1 ? std::string(fields[1]) : "/";
  if (target.empty() || target.front() != '/') target.insert(target.begin(), '/');
  if (!encode_request_target(target)) return 0;  // refused: a Lua error, nothing sent

  HeaderBlock headers;
  int accepted = 0;
  for (std::size_t i = 2; i + 1 < fields.size(); i += 2) {
    // Left out: Host (cicada writes it), and the framing headers, with which a caller asks
    // for a body the request does not have (its own choice, not an injection).
    std::string name(fields[i]);
    std::string lower;
    for (char c : name) lower.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
    if (lower == "host" || lower == "content-length" || lower == "transfer-encoding") continue;
    if (headers.add(name, fields[i + 1])) ++accepted;
  }

  ComposeInput input;
  input.method = method;
  input.target = target;
  input.host_header = "127.0.0.1:8080";
  input.user_agent = "cicada-fuzz";
  std::string request;
  compose_request(request, input, headers);

  llhttp_settings_t settings;
  llhttp_settings_init(&settings);
  settings.on_header_field_complete = on_header_field_complete;
  settings.on_message_complete = on_message_complete;
  llhttp_t parser;
  llhttp_init(&parser, HTTP_REQUEST, &settings);
  Parsed parsed;
  parser.data = &parsed;
  const llhttp_errno_t err = llhttp_execute(&parser, request.data(), request.size());
  // llhttp knows a fixed list of methods (and treats PRI as HTTP/2's preface): a refusal
  // within the request line is about the method, not an injection. Past it, all must parse.
  if (err != HPE_OK && err != HPE_PAUSED_UPGRADE) {
    const char* where = llhttp_get_error_pos(&parser);
    if (where && where < request.data() + request.find("\r\n")) return 0;
    std::abort();
  }
  if (parsed.messages != 1) std::abort();
  if (parsed.headers < accepted) std::abort();
  return 0;
}
