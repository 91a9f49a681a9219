// The cookie jar against RFC 6265: parsing Set-Cookie, domain and path rules, expiry, Secure,
// ordering of the Cookie header, replacement, and the bounds on what a server can make it hold.
#include <doctest/doctest.h>

#include <limits>
#include <string>

#include "runtime/http/cookie_jar.h"

using cicada::http::Cookie;
using cicada::http::CookieJar;

namespace {

constexpr std::int64_t kNow = 1'700'000'000;  // 2023-11-14 22:13:20 UTC

// The Cookie header the jar sends for this URL at `now`.
std::string header(CookieJar& jar, std::string_view url_path, std::string_view host = "example.com",
                   std::string_view scheme = "http", std::int64_t now = kNow) {
  std::string out;
  jar.header_for(scheme, host, url_path, now, out);
  return out;
}

// Stores one Set-Cookie value received from http://example.com/ (or the given origin and path).
bool store(CookieJar& jar, std::string_view set_cookie, std::string_view host = "example.com",
           std::string_view path = "/", std::string_view scheme = "http", std::int64_t now = kNow) {
  return jar.store(set_cookie, scheme, host, path, now);
}

const Cookie* find(CookieJar& jar, std::string_view name) {
  for (const Cookie& cookie : jar.all(kNow))
    if (cookie.name == name) return &cookie;
  return nullptr;
}

}  // namespace

TEST_CASE("a cookie comes back to the host that set it, and only there") {
  CookieJar jar;
  CHECK(store(jar, "session=abc123"));
  CHECK(header(jar, "/") == "session=abc123");
  CHECK(header(jar, "/any/path?q=1") == "session=abc123");
  CHECK(header(jar, "/", "EXAMPLE.com") == "session=abc123");  // host names are case-insensitive
  CHECK(header(jar, "/", "www.example.com").empty());           // host-only: not to subdomains
  CHECK(header(jar, "/", "other.com").empty());
  CHECK(header(jar, "/", "example.com", "https") == "session=abc123");

  const Cookie* cookie = find(jar, "session");
  REQUIRE(cookie);
  CHECK(cookie->domain == "example.com");
  CHECK(cookie->path == "/");
  CHECK(cookie->host_only);
  CHECK(cookie->expires_at == -1);
  CHECK_FALSE(cookie->secure);
  CHECK_FALSE(cookie->http_only);
}

TEST_CASE("the Cookie header is appended to what the caller already has") {
  CookieJar jar;
  store(jar, "a=1");
  std::string out = "prefix:";
  jar.header_for("http", "example.com", "/", kNow, out);
  CHECK(out == "prefix:a=1");
}

TEST_CASE("name and value are split at the first '=' and trimmed; the value is kept verbatim") {
  CookieJar jar;
  CHECK(store(jar, "  token = a=b=c  ; Path=/"));
  CHECK(store(jar, "quoted=\"with spaces inside\""));
  CHECK(store(jar, "empty="));
  CHECK(header(jar, "/") == "token=a=b=c; quoted=\"with spaces inside\"; empty=");
}

TEST_CASE("malformed Set-Cookie values are ignored") {
  CookieJar jar;
  CHECK_FALSE(store(jar, "no-equals-sign"));
  CHECK_FALSE(store(jar, "=value-without-name"));
  CHECK_FALSE(store(jar, "  =x"));
  CHECK_FALSE(store(jar, ""));
  CHECK_FALSE(store(jar, "; Path=/"));
  CHECK_FALSE(store(jar, std::string("nul=a\0b", 7)));
  CHECK_FALSE(store(jar, "crlf=a\r\nInjected: yes"));
  CHECK_FALSE(store(jar, "del=a\x7f"));
  CHECK(store(jar, "tab=a\tb"));  // HTAB is allowed
  CHECK(jar.size() == 1);
}

TEST_CASE("attribute names are case-insensitive and unknown attributes are ignored") {
  CookieJar jar;
  CHECK(store(jar, "a=1; PATH=/p; SeCuRe; HTTPONLY; SameSite=Lax; Priority=High; =odd; ;", "example.com", "/"));
  const Cookie* cookie = find(jar, "a");
  REQUIRE(cookie);
  CHECK(cookie->path == "/p");
  CHECK(cookie->secure);
  CHECK(cookie->http_only);
}

TEST_CASE("Domain: a leading dot is ignored and subdomains receive the cookie") {
  CookieJar jar;
  CHECK(store(jar, "wide=1; Domain=.Example.COM", "www.example.com"));
  CHECK(store(jar, "plain=2; Domain=example.com", "example.com"));
  const Cookie* wide = find(jar, "wide");
  REQUIRE(wide);
  CHECK(wide->domain == "example.com");
  CHECK_FALSE(wide->host_only);
  CHECK(header(jar, "/", "example.com") == "wide=1; plain=2");
  CHECK(header(jar, "/", "a.b.example.com") == "wide=1; plain=2");
  CHECK(header(jar, "/", "notexample.com").empty());  // a suffix, but not at a label boundary
  CHECK(header(jar, "/", "example.com.evil").empty());
}

TEST_CASE("Domain: a domain the request host does not belong to is rejected") {
  CookieJar jar;
  CHECK_FALSE(store(jar, "x=1; Domain=other.com", "www.example.com"));
  CHECK_FALSE(store(jar, "x=1; Domain=www.example.com", "example.com"));  // a child of the host
  CHECK_FALSE(store(jar, "x=1; Domain=ample.com", "example.com"));
  CHECK(jar.size() == 0);
  // No public-suffix list: a top-level domain is accepted (documented in cookie_jar.h).
  CHECK(store(jar, "x=1; Domain=com", "www.example.com"));
}

TEST_CASE("Domain: empty values are ignored, the cookie stays host-only") {
  CookieJar jar;
  CHECK(store(jar, "a=1; Domain=", "www.example.com"));
  CHECK(store(jar, "b=1; Domain=.", "www.example.com"));
  for (const Cookie& cookie : jar.all(kNow)) {
    CHECK(cookie.host_only);
    CHECK(cookie.domain == "www.example.com");
  }
  CHECK(jar.size() == 2);
}

TEST_CASE("IP-address hosts only get host-only cookies") {
  CookieJar jar;
  CHECK(store(jar, "a=1", "127.0.0.1"));
  CHECK(store(jar, "b=2; Domain=127.0.0.1", "127.0.0.1"));
  CHECK_FALSE(store(jar, "c=3; Domain=0.0.1", "127.0.0.1"));
  CHECK_FALSE(store(jar, "d=4; Domain=127.0.0.2", "127.0.0.1"));
  CHECK(header(jar, "/", "127.0.0.1") == "a=1; b=2");
  CHECK(header(jar, "/", "127.0.0.2").empty());
  for (const Cookie& cookie : jar.all(kNow)) CHECK(cookie.host_only);

  CookieJar v6;
  CHECK(store(v6, "e=5", "[::1]"));  // URL form, with brackets
  CHECK(store(v6, "f=6; Domain=::1", "::1"));
  CHECK(header(v6, "/", "::1") == "e=5; f=6");
  CHECK(header(v6, "/", "[::1]") == "e=5; f=6");
  CHECK(v6.all(kNow).front().domain == "::1");
}

TEST_CASE("the default path is the request path up to its last slash") {
  using cicada::http::default_cookie_path;
  CHECK(default_cookie_path("/") == "/");
  CHECK(default_cookie_path("") == "/");
  CHECK(default_cookie_path("relative") == "/");
  CHECK(default_cookie_path("/login") == "/");
  CHECK(default_cookie_path("/account/login") == "/account");
  CHECK(default_cookie_path("/account/") == "/account");
  CHECK(default_cookie_path("/a/b/c?next=/x/y") == "/a/b");
  CHECK(default_cookie_path("/a/b#frag/x") == "/a");

  CookieJar jar;
  store(jar, "scoped=1", "example.com", "/account/login?from=/home");
  CHECK(find(jar, "scoped")->path == "/account");
  CHECK(header(jar, "/account") == "scoped=1");
  CHECK(header(jar, "/account/settings") == "scoped=1");
  CHECK(header(jar, "/").empty());
  CHECK(header(jar, "/accounts").empty());
}

TEST_CASE("Path: an explicit absolute path, or the default when it is not absolute") {
  CookieJar jar;
  store(jar, "a=1; Path=/api", "example.com", "/x/y");
  store(jar, "b=1; Path=api", "example.com", "/x/y");  // not absolute: default path
  store(jar, "c=1; Path=", "example.com", "/x/y");
  store(jar, "d=1; Path=/first; Path=/second");  // the last one wins
  CHECK(find(jar, "a")->path == "/api");
  CHECK(find(jar, "b")->path == "/x");
  CHECK(find(jar, "c")->path == "/x");
  CHECK(find(jar, "d")->path == "/second");
}

TEST_CASE("path matching follows RFC 6265 5.1.4") {
  using cicada::http::path_matches;
  CHECK(path_matches("/a", "/a"));
  CHECK(path_matches("/a/", "/a"));
  CHECK(path_matches("/a/b", "/a"));
  CHECK(path_matches("/a/b", "/a/"));
  CHECK(path_matches("/anything", "/"));
  CHECK_FALSE(path_matches("/ab", "/a"));
  CHECK_FALSE(path_matches("/a", "/a/"));
  CHECK_FALSE(path_matches("/", "/a"));
  CHECK_FALSE(path_matches("/A", "/a"));  // paths are case-sensitive
}

TEST_CASE("domain matching follows RFC 6265 5.1.3") {
  using cicada::http::domain_matches;
  CHECK(domain_matches("example.com", "example.com"));
  CHECK(domain_matches("www.example.com", "example.com"));
  CHECK(domain_matches("WWW.Example.com", "example.com"));
  CHECK_FALSE(domain_matches("example.com", "www.example.com"));
  CHECK_FALSE(domain_matches("badexample.com", "example.com"));
  CHECK_FALSE(domain_matches("1.2.3.4", "2.3.4"));  // no suffix matching on addresses
  CHECK(domain_matches("1.2.3.4", "1.2.3.4"));
  CHECK_FALSE(domain_matches("example.com", ""));
}

TEST_CASE("cookie dates in the forms servers send") {
  using cicada::http::parse_cookie_date;
  constexpr std::int64_t kRfcExample = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
  CHECK(parse_cookie_date("Sun, 06 Nov 1994 08:49:37 GMT") == kRfcExample);      // RFC 1123
  CHECK(parse_cookie_date("Sunday, 06-Nov-94 08:49:37 GMT") == kRfcExample);     // RFC 850
  CHECK(parse_cookie_date("Sun Nov  6 08:49:37 1994") == kRfcExample);           // asctime
  CHECK(parse_cookie_date("Sun, 06-Nov-1994 08:49:37 GMT") == kRfcExample);      // Netscape
  CHECK(parse_cookie_date("sun, 6 nov 1994 8:49:37 gmt") == kRfcExample);        // lower case, one digit
  CHECK(parse_cookie_date("06 Nov 1994 08:49:37") == kRfcExample);               // no weekday, no zone
  CHECK(parse_cookie_date("Sun, 06 November 1994 08:49:37 GMT") == kRfcExample); // full month name
  CHECK(parse_cookie_date("Thu, 01 Jan 1970 00:00:00 GMT") == 0);
  CHECK(parse_cookie_date("Fri, 01 Jan 2100 00:00:00 GMT") == 4102444800);      // past 2038
  CHECK(parse_cookie_date("Thu, 29 Feb 2024 12:00:00 GMT") == 1709208000);      // leap day
  CHECK(parse_cookie_date("Fri, 31 Dec 9999 23:59:59 GMT") == 253402300799);
  // Two-digit years: 70-99 are 19xx, 00-69 are 20xx.
  CHECK(parse_cookie_date("01-Jan-70 00:00:00") == 0);
  CHECK(parse_cookie_date("01-Jan-69 00:00:00") == 3124224000);  // 2069
  CHECK(parse_cookie_date("Wed, 09 Jun 21 10:18:14 GMT") == 1623233894);
}

TEST_CASE("strings that are not cookie dates") {
  using cicada::http::parse_cookie_date;
  CHECK_FALSE(parse_cookie_date(""));
  CHECK_FALSE(parse_cookie_date("tomorrow"));
  CHECK_FALSE(parse_cookie_date("Sun, 06 Nov 1994"));             // no time
  CHECK_FALSE(parse_cookie_date("Sun, 06 Nov 08:49:37 GMT"));     // no year
  CHECK_FALSE(parse_cookie_date("Sun, 06 1994 08:49:37 GMT"));    // no month
  CHECK_FALSE(parse_cookie_date("Sun, 30 Feb 2023 08:49:37 GMT"));
  CHECK_FALSE(parse_cookie_date("Sun, 29 Feb 2023 08:49:37 GMT")); // not a leap year
  CHECK_FALSE(parse_cookie_date("Sun, 32 Jan 2023 08:49:37 GMT"));
  CHECK_FALSE(parse_cookie_date("Sun, 00 Jan 2023 08:49:37 GMT"));
  CHECK_FALSE(parse_cookie_date("Sun, 06 Nov 1994 24:00:00 GMT"));
  CHECK_FALSE(parse_cookie_date("Sun, 06 Nov 1994 23:60:00 GMT"));
  CHECK_FALSE(parse_cookie_date("Sun, 06 Nov 1994 23:59:60 GMT"));
  CHECK_FALSE(parse_cookie_date("Sun, 06 Nov 1600 08:49:37 GMT"));
  CHECK_FALSE(parse_cookie_date("Sun, 06 Nov 12345 08:49:37 GMT")); // a five-digit year is no year
  CHECK_FALSE(parse_cookie_date("Sun, 06 Nov 1994 123:49:37 GMT"));
  CHECK(parse_cookie_date("1601-Jan-01 00:00:00") == -11644473600);  // the earliest year allowed
}

TEST_CASE("Expires makes a persistent cookie that disappears when it passes") {
  CookieJar jar;
  CHECK(store(jar, "until=1; Expires=Wed, 15 Nov 2023 00:00:00 GMT"));
  const Cookie* cookie = find(jar, "until");
  REQUIRE(cookie);
  CHECK(cookie->expires_at == 1700006400);
  CHECK(header(jar, "/", "example.com", "http", 1700006399) == "until=1");
  CHECK(header(jar, "/", "example.com", "http", 1700006400).empty());
  CHECK(jar.size() == 0);  // dropped, not just hidden
}

TEST_CASE("an unparseable Expires is ignored: the cookie stays a session cookie") {
  CookieJar jar;
  CHECK(store(jar, "s=1; Expires=soon"));
  CHECK(find(jar, "s")->expires_at == -1);
}

TEST_CASE("Max-Age counts from now and wins over Expires, whatever their order") {
  CookieJar jar;
  store(jar, "a=1; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
  store(jar, "b=1; Expires=Fri, 01 Jan 2100 00:00:00 GMT; Max-Age=60");
  store(jar, "c=1; Max-Age=oops; Expires=Fri, 01 Jan 2100 00:00:00 GMT");  // invalid Max-Age is ignored
  store(jar, "d=1; Max-Age=1x");
  store(jar, "e=1; Max-Age=99999999999999999999999");
  CHECK(find(jar, "a")->expires_at == kNow + 60);
  CHECK(find(jar, "b")->expires_at == kNow + 60);
  CHECK(find(jar, "c")->expires_at == 4102444800);
  CHECK(find(jar, "d")->expires_at == -1);
  CHECK(find(jar, "e")->expires_at == std::numeric_limits<std::int64_t>::max());
  CHECK(header(jar, "/", "example.com", "http", kNow + 59) == "a=1; b=1; c=1; d=1; e=1");
  CHECK(header(jar, "/", "example.com", "http", kNow + 60) == "c=1; d=1; e=1");
}

TEST_CASE("Max-Age of zero or less, or a past Expires, deletes the cookie") {
  CookieJar jar;
  store(jar, "a=1");
  store(jar, "b=1");
  store(jar, "c=1; Path=/x");
  store(jar, "d=1");
  CHECK(jar.size() == 4);
  CHECK(store(jar, "a=; Max-Age=0"));
  CHECK(store(jar, "b=gone; Max-Age=-5"));
  CHECK(store(jar, "c=; Path=/x; Expires=Thu, 01 Jan 1970 00:00:00 GMT"));
  CHECK(store(jar, "d=; Expires=Sun, 06 Nov 1994 08:49:37 GMT"));
  CHECK(jar.size() == 0);
  // Deleting what is not there changes nothing, and a past cookie is not stored.
  CHECK_FALSE(store(jar, "never=1; Max-Age=0"));
  CHECK(jar.size() == 0);
}

TEST_CASE("a deletion only removes the cookie with the same name, domain and path") {
  CookieJar jar;
  store(jar, "a=root; Path=/");
  store(jar, "a=api; Path=/api");
  store(jar, "a=wide; Domain=example.com");  // same name, domain and path as a=root: replaces it
  CHECK(jar.size() == 2);
  CHECK(find(jar, "a")->value == "wide");
  CHECK(store(jar, "a=; Path=/api; Max-Age=0"));
  CHECK(jar.size() == 1);
  CHECK(header(jar, "/api/x") == "a=wide");
}

TEST_CASE("Secure cookies are only sent over https") {
  CookieJar jar;
  CHECK(store(jar, "secret=1; Secure", "example.com", "/", "https"));
  CHECK(store(jar, "plain=1", "example.com", "/", "https"));
  CHECK(header(jar, "/", "example.com", "https") == "secret=1; plain=1");
  CHECK(header(jar, "/", "example.com", "HTTPS") == "secret=1; plain=1");
  CHECK(header(jar, "/", "example.com", "http") == "plain=1");
  // RFC 6265 lets an http response set a Secure cookie; it is still only sent over https.
  CHECK(store(jar, "from_http=1; Secure", "example.com", "/", "http"));
  CHECK(header(jar, "/", "example.com", "http") == "plain=1");
}

TEST_CASE("HttpOnly is kept as a flag; the cookie is still sent (every request is HTTP)") {
  CookieJar jar;
  store(jar, "h=1; HttpOnly");
  CHECK(find(jar, "h")->http_only);
  CHECK(header(jar, "/") == "h=1");
}

TEST_CASE("a cookie with the same name, domain and path replaces the old one and keeps its place") {
  CookieJar jar;
  store(jar, "first=1");
  store(jar, "second=1");
  store(jar, "first=2; HttpOnly");
  CHECK(jar.size() == 2);
  CHECK(header(jar, "/") == "first=2; second=1");  // still the older one
  CHECK(find(jar, "first")->http_only);
  // The same name on another path or host is another cookie.
  store(jar, "first=3; Path=/deep");
  store(jar, "first=4", "www.example.com");
  CHECK(jar.size() == 4);
}

TEST_CASE("the Cookie header lists longer paths first, then older cookies first") {
  CookieJar jar;
  store(jar, "root_old=1; Path=/");
  store(jar, "mid=1; Path=/a");
  store(jar, "deep=1; Path=/a/b");
  store(jar, "root_new=1; Path=/");
  store(jar, "mid_new=1; Path=/a");
  store(jar, "elsewhere=1; Path=/z");
  CHECK(header(jar, "/a/b/c") == "deep=1; mid=1; mid_new=1; root_old=1; root_new=1");
  CHECK(header(jar, "/a") == "mid=1; mid_new=1; root_old=1; root_new=1");
  CHECK(header(jar, "/") == "root_old=1; root_new=1");
}

TEST_CASE("cookies larger than the bound are ignored; attribute values too long are ignored") {
  CookieJar jar;
  const std::string name = "big";
  CHECK(store(jar, name + "=" + std::string(CookieJar::kMaxCookieBytes - name.size(), 'v')));
  CHECK_FALSE(store(jar, "huge=" + std::string(CookieJar::kMaxCookieBytes, 'v')));
  CHECK(jar.size() == 1);
  const std::string long_path = "/" + std::string(CookieJar::kMaxAttributeBytes, 'p');
  CHECK(store(jar, "p=1; Path=" + long_path, "example.com", "/x/y"));
  CHECK(find(jar, "p")->path == "/x");  // the long Path was ignored, the default applies
}

TEST_CASE("at most kMaxCookiesPerDomain per domain: the least recently used go first") {
  CookieJar jar;
  for (std::size_t i = 0; i < CookieJar::kMaxCookiesPerDomain; ++i) store(jar, "c" + std::to_string(i) + "=1");
  CHECK(jar.size() == CookieJar::kMaxCookiesPerDomain);
  // Using c0 makes c1 the least recently used.
  CHECK(header(jar, "/").starts_with("c0=1; c1=1"));
  store(jar, "c0=1");  // refresh c0 again, so it is the most recent of the old ones
  store(jar, "newcomer=1");
  CHECK(jar.size() == CookieJar::kMaxCookiesPerDomain);
  CHECK(find(jar, "newcomer"));
  CHECK(find(jar, "c0"));
  CHECK_FALSE(find(jar, "c1"));  // the oldest by creation would have been c0
  // Another domain has its own allowance.
  store(jar, "elsewhere=1", "other.com");
  CHECK(jar.size() == CookieJar::kMaxCookiesPerDomain + 1);
}

TEST_CASE("at most kMaxCookies in all") {
  CookieJar jar;
  const std::size_t domains = CookieJar::kMaxCookies / CookieJar::kMaxCookiesPerDomain + 2;
  for (std::size_t d = 0; d < domains; ++d)
    for (std::size_t i = 0; i < CookieJar::kMaxCookiesPerDomain; ++i)
      store(jar, "c" + std::to_string(i) + "=1", "host" + std::to_string(d) + ".test");
  CHECK(jar.size() == CookieJar::kMaxCookies);
  // The oldest domains were evicted first; the last one stored is complete.
  CHECK(header(jar, "/", "host0.test").empty());
  CHECK_FALSE(header(jar, "/", "host" + std::to_string(domains - 1) + ".test").empty());
}

TEST_CASE("set(): cookies from the script, normalised and validated") {
  CookieJar jar;
  Cookie cookie;
  cookie.name = "token";
  cookie.value = "xyz";
  cookie.domain = ".Example.com";
  CHECK(jar.set(cookie));
  const Cookie* stored = find(jar, "token");
  REQUIRE(stored);
  CHECK(stored->domain == "example.com");
  CHECK(stored->path == "/");
  CHECK(stored->host_only);
  CHECK(header(jar, "/") == "token=xyz");

  cookie.value = "replaced";
  cookie.domain = "example.com";
  CHECK(jar.set(cookie));
  CHECK(jar.size() == 1);
  CHECK(header(jar, "/") == "token=replaced");

  cookie.host_only = false;
  cookie.name = "wide";
  CHECK(jar.set(cookie));
  CHECK(header(jar, "/", "api.example.com") == "wide=replaced");

  auto rejected = [&](auto change) {
    Cookie bad;
    bad.name = "n";
    bad.value = "v";
    bad.domain = "example.com";
    change(bad);
    return !jar.set(bad);
  };
  CHECK(rejected([](Cookie& c) { c.name.clear(); }));
  CHECK(rejected([](Cookie& c) { c.name = "a=b"; }));
  CHECK(rejected([](Cookie& c) { c.name = "a;b"; }));
  CHECK(rejected([](Cookie& c) { c.name = "a b"; }));
  CHECK(rejected([](Cookie& c) { c.value = "v; injected=1"; }));
  CHECK(rejected([](Cookie& c) { c.value = "v\r\nX-Injected: 1"; }));
  CHECK(rejected([](Cookie& c) { c.domain.clear(); }));
  CHECK(rejected([](Cookie& c) { c.domain = "."; }));
  CHECK(rejected([](Cookie& c) { c.path = "relative"; }));
  CHECK(rejected([](Cookie& c) { c.value = std::string(CookieJar::kMaxCookieBytes, 'v'); }));
  CHECK(jar.size() == 2);
}

TEST_CASE("set(): an expiry in the past makes the cookie invisible; negative expiries mean a session") {
  CookieJar jar;
  Cookie cookie;
  cookie.name = "old";
  cookie.domain = "example.com";
  cookie.expires_at = kNow - 1;
  CHECK(jar.set(cookie));
  cookie.name = "session";
  cookie.expires_at = -42;
  CHECK(jar.set(cookie));
  CHECK(header(jar, "/") == "session=");
  CHECK(jar.all(kNow).size() == 1);
  CHECK(jar.all(kNow).front().expires_at == -1);
}

TEST_CASE("remove() by name, optionally narrowed by domain and path; clear() empties the jar") {
  CookieJar jar;
  store(jar, "a=1");
  store(jar, "a=2; Path=/x");
  store(jar, "a=3", "other.com");
  store(jar, "b=1");
  CHECK_FALSE(jar.remove("missing"));
  CHECK(jar.remove("a", "other.com"));
  CHECK(jar.size() == 3);
  CHECK(jar.remove("a", ".EXAMPLE.com", "/x"));
  CHECK(jar.size() == 2);
  CHECK(jar.remove("a"));
  CHECK(jar.size() == 1);
  CHECK(header(jar, "/") == "b=1");
  jar.clear();
  CHECK(jar.size() == 0);
  CHECK(header(jar, "/").empty());
}

TEST_CASE("all() drops expired cookies and keeps the rest in storage order") {
  CookieJar jar;
  store(jar, "short=1; Max-Age=10");
  store(jar, "long=1; Max-Age=1000");
  store(jar, "session=1");
  CHECK(jar.all(kNow).size() == 3);
  const auto& later = jar.all(kNow + 10);
  REQUIRE(later.size() == 2);
  CHECK(later[0].name == "long");
  CHECK(later[1].name == "session");
}
