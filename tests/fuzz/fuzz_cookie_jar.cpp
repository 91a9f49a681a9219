// libFuzzer target: the cookie jar (runtime/http/cookie_jar.cpp): Set-Cookie parsing, domain
// and path matching, expiry, the bounds. Each input line is a Set-Cookie value, stored for a
// request to a host and path taken from the input's first line. Properties: a Cookie header
// the jar writes holds no control character but tabs and no bytes beyond its cookies' bounds; the jar
// stays within its limits.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "runtime/http/cookie_jar.h"

using namespace cicada::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t first_end = input.find('\n');
  std::string_view where = input.substr(0, first_end);
  // "host path" on the first line; defaults keep the fuzzer's early inputs meaningful.
  const std::size_t space = where.find(' ');
  std::string host(where.substr(0, space));
  std::string path(space == std::string_view::npos ? "/" : where.substr(space + 1));
  if (host.empty()) host = "example.test";
  CookieJar jar;
  std::int64_t now = 1'800'000'000;
  std::string_view rest = first_end == std::string_view::npos ? std::string_view{} : input.substr(first_end + 1);
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    jar.store(rest.substr(0, end), (now & 1) ? "https" : "http", host, path, now);
    now += 7;
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  if (jar.size() > CookieJar::kMaxCookies) std::abort();
  for (const char* scheme : {"http", "https"}) {
    std::string header;
    jar.header_for(scheme, host, path, now, header);
    for (unsigned char c : header)
      if ((c < 0x20 && c != '\t') || c == 0x7f) std::abort();  // a tab is legal in a header value
  }
  for (const Cookie& cookie : jar.all(now + 100'000)) {
    if (cookie.name.size() + cookie.value.size() > CookieJar::kMaxCookieBytes) std::abort();
    if (cookie.name.empty() && cookie.value.empty()) std::abort();
  }
  return 0;
}
