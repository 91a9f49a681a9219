// libFuzzer target: URL parsing, Location resolution and request-target encoding
// (runtime/http/url.cpp, request_writer.cpp's join_target). Properties checked: an encoded
// target holds no byte a request line cannot carry; encoding is idempotent; a parsed URL's
// text parses again to the same URL.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "runtime/http/request_writer.h"
#include "runtime/http/url.h"

using namespace cicada::http;

namespace {

void check_target(const std::string& target) {
  for (unsigned char c : target)
    if (c <= 0x20 || c >= 0x7f || c == '#' || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' ||
        c == '`' || c == '{' || c == '|' || c == '}')
      std::abort();
  std::string again = target;
  if (!encode_request_target(again) || again != target) std::abort();  // idempotent
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = input.find('\n');
  std::string_view first = input.substr(0, split);
  std::string_view second = split == std::string_view::npos ? std::string_view{} : input.substr(split + 1);

  std::string error;
  if (auto url = parse_url(first, &error)) {
    std::string text = to_string(*url);
    auto again = parse_url(text, &error);
    if (!again || again->host != url->host || again->port != url->port || again->scheme != url->scheme ||
        again->path != url->path)
      std::abort();
    if (auto next = resolve_reference(*url, second, &error)) {
      if (next->path.empty() || next->path.front() != '/') std::abort();
      if (encode_request_target(next->path)) check_target(next->path);
    }
  }
  std::string joined;
  join_target(joined, first, second);
  if (encode_request_target(joined)) check_target(joined);
  std::string query;
  append_query_encoded(query, input);
  for (unsigned char c : query)
    if (!(std::isalnum(c) || c == '%' || c == '-' || c == '_' || c == '.' || c == '~')) std::abort();
  return 0;
}
