#pragma once
// The cookies of one virtual user (RFC 6265 sections 5.1 to 5.4): what Set-Cookie stores, what
// the Cookie header of the next request carries.
//
// What is implemented: the Domain attribute (a leading dot ignored; it must domain-match the
// request host, else the cookie is rejected), host-only cookies, the default Path, Expires (the
// date forms of RFC 1123, RFC 850 and asctime, through the RFC's lenient date algorithm),
// Max-Age (wins over Expires; zero or negative deletes), Secure (sent over https only), HttpOnly
// (kept as a flag: every request of a load test is an HTTP API), replacement of the cookie with
// the same name, domain and path, and the ordering of RFC 6265 5.4.
//
// What is not: there is no public-suffix list, so a server may set a cookie for "Domain=com";
// load tests talk to servers their authors run, where that does not matter. SameSite is
// ignored (it concerns cross-site browsing, not a client that makes its own requests).
// IP-address hosts only get host-only cookies.
//
// Bounds, so that a hostile or buggy server cannot grow a user's memory: name + value at most
// kMaxCookieBytes (larger cookies are ignored), attribute values at most kMaxAttributeBytes
// (longer attributes are ignored), at most kMaxCookiesPerDomain per domain and kMaxCookies in
// all; past those, the least recently used cookies are dropped.
//
// Times are unix seconds given by the caller, so the jar never reads a clock itself.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cicada::http {

struct Cookie {
  std::string name, value;
  std::string domain;  // lower case, without a leading dot
  std::string path;    // starts with '/'
  std::int64_t expires_at = -1;  // unix seconds; -1 = a session cookie (never expires here)
  bool secure = false;
  bool http_only = false;
  bool host_only = true;  // sent to `domain` exactly, not to its subdomains
  // Set by the jar: the order of creation (kept when a cookie is replaced) and of last use.
  std::uint64_t creation = 0;
  std::uint64_t last_access = 0;
};

class CookieJar {
 public:
  static constexpr std::size_t kMaxCookieBytes = 4096;
  static constexpr std::size_t kMaxAttributeBytes = 1024;
  static constexpr std::size_t kMaxCookiesPerDomain = 50;
  static constexpr std::size_t kMaxCookies = 3000;

  // One Set-Cookie header value of a response (one header line: repeated Set-Cookie headers
  // must not be joined, since Expires dates hold commas), for the request it answered: its
  // scheme, host (no port: cookies ignore ports, RFC 6265 8.5) and path (a query or fragment is
  // ignored). Malformed or rejected cookies are ignored, as browsers do; the return value says
  // whether the jar changed (a cookie stored or deleted). `scheme` is not used for storing:
  // RFC 6265 lets http responses set Secure cookies, which are then only sent over https.
  bool store(std::string_view set_cookie, std::string_view scheme, std::string_view host,
             std::string_view request_path, std::int64_t now_s);

  // Appends the Cookie header value for a request ("" when no cookie matches): domain, path,
  // Secure and expiry matching; longer paths first, then older cookies first (RFC 6265 5.4).
  void header_for(std::string_view scheme, std::string_view host, std::string_view path, std::int64_t now_s,
                  std::string& out);

  // A cookie set by the script. The domain is normalised (lower case, leading dot dropped), an
  // empty path becomes "/". False, and nothing stored, when it could not be sent as it is: an
  // empty domain or name, a name with '=', ';', whitespace or a control character, a value with
  // ';' or a control character, or more than kMaxCookieBytes.
  bool set(Cookie cookie);

  // Removes the cookies called `name`, restricted to `domain` and `path` when they are given.
  // Returns whether any was removed.
  bool remove(std::string_view name, std::string_view domain = {}, std::string_view path = {});
  void clear() { cookies_.clear(); }

  // Every cookie still valid at `now_s` (expired ones are dropped first), in storage order.
  const std::vector<Cookie>& all(std::int64_t now_s);
  std::size_t size() const { return cookies_.size(); }

 private:
  void insert(Cookie cookie);  // replaces the same name/domain/path, then enforces the bounds
  void drop_expired(std::int64_t now_s);
  void enforce_bounds(std::string_view domain);

  std::vector<Cookie> cookies_;
  std::uint64_t clock_ = 0;            // orders creation and use; never goes back
  std::vector<std::size_t> matching_;  // header_for's scratch, kept for its capacity
};

// RFC 6265 5.1.1: a cookie date ("Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37
// GMT", "Sun Nov  6 08:49:37 1994", and the variants real servers send) as unix seconds, or
// nullopt when it is not a date.
std::optional<std::int64_t> parse_cookie_date(std::string_view text);

// RFC 6265 5.1.3 and 5.1.4, exposed for tests and for the client's own use.
bool domain_matches(std::string_view host, std::string_view domain);
bool path_matches(std::string_view request_path, std::string_view cookie_path);
std::string_view default_cookie_path(std::string_view request_path);

}  // namespace cicada::http
