#include "runtime/http/cookie_jar.h"

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <limits>

#include "runtime/common/text.h"

namespace cicada::http {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// RFC 6265bis 5.6: a cookie whose name or value holds a control character other than HTAB is
// ignored. It also keeps CR and LF out of the Cookie header the jar writes.
bool has_control_char(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && byte != '\t') || byte == 0x7f;
  });
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// "[::1]" -> "::1": URLs bracket IPv6 literals, cookie domains never do.
std::string_view unbracket(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

bool is_ip_address(std::string_view host) {
  if (host.find(':') != std::string_view::npos) return true;  // only IPv6 literals hold a colon
  if (host.empty() || host.size() >= INET_ADDRSTRLEN) return false;
  char text[INET_ADDRSTRLEN] = {};
  host.copy(text, host.size());
  in_addr address{};
  return inet_pton(AF_INET, text, &address) == 1;
}

// The path part of a request target: no query, no fragment.
std::string_view path_only(std::string_view target) {
  return target.substr(0, std::min(target.find('?'), target.find('#')));
}

bool is_expired(const Cookie& cookie, std::int64_t now_s) { return cookie.expires_at >= 0 && cookie.expires_at <= now_s; }

bool same_identity(const Cookie& a, std::string_view name, std::string_view domain, std::string_view path) {
  return a.name == name && a.domain == domain && a.path == path;
}

// Max-Age's value (RFC 6265 5.2.2): an optional '-' then digits, or nothing usable.
std::optional<std::int64_t> parse_max_age(std::string_view text) {
  bool negative = !text.empty() && text.front() == '-';
  std::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), is_digit)) return std::nullopt;
  std::int64_t value = 0;
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  for (char c : digits) {
    int digit = c - '0';
    value = value > (kMax - digit) / 10 ? kMax : value * 10 + digit;  // saturates instead of overflowing
  }
  return negative ? -value : value;
}

// --- cookie dates (RFC 6265 5.1.1) --------------------------------------------------------

bool is_date_delimiter(unsigned char c) {
  return c == 0x09 || (c >= 0x20 && c <= 0x2f) || (c >= 0x3b && c <= 0x40) || (c >= 0x5b && c <= 0x60) ||
         (c >= 0x7b && c <= 0x7e);
}

// Reads the min_digits to max_digits digits at the start of `text` and advances past them; a
// longer run of digits is no match (RFC 6265's "1*2DIGIT ( non-digit *OCTET )").
bool read_number(std::string_view& text, std::size_t min_digits, std::size_t max_digits, int& value) {
  std::size_t length = 0;
  while (length < text.size() && is_digit(text[length])) ++length;
  if (length < min_digits || length > max_digits) return false;
  value = 0;
  for (std::size_t i = 0; i < length; ++i) value = value * 10 + (text[i] - '0');
  text.remove_prefix(length);
  return true;
}

bool parse_time_token(std::string_view token, int& hour, int& minute, int& second) {
  if (!read_number(token, 1, 2, hour) || token.empty() || token.front() != ':') return false;
  token.remove_prefix(1);
  if (!read_number(token, 1, 2, minute) || token.empty() || token.front() != ':') return false;
  token.remove_prefix(1);
  return read_number(token, 1, 2, second);
}

int month_of_token(std::string_view token) {
  static constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
  if (token.size() < 3) return 0;
  for (int i = 0; i < 12; ++i)
    if (common::equals_ignoring_case(token.substr(0, 3), kMonths[i])) return i + 1;
  return 0;
}

// --- ordering -----------------------------------------------------------------------------

// RFC 6265 5.4 step 2: longer paths first, then earlier creation first.
bool sent_before(const Cookie& a, const Cookie& b) {
  if (a.path.size() != b.path.size()) return a.path.size() > b.path.size();
  return a.creation < b.creation;
}

}  // namespace

std::optional<std::int64_t> parse_cookie_date(std::string_view text) {
  bool found_time = false, found_day = false, found_month = false, found_year = false;
  int hour = 0, minute = 0, second = 0, day = 0, month = 0, year = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_date_delimiter(static_cast<unsigned char>(text[i]))) ++i;
    std::size_t start = i;
    while (i < text.size() && !is_date_delimiter(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view token = text.substr(start, i - start);
    if (token.empty()) break;
    std::string_view digits;  // read_number advances its argument: each test starts from the token
    if (!found_time && parse_time_token(token, hour, minute, second)) {
      found_time = true;
    } else if (!found_day && read_number(digits = token, 1, 2, day)) {
      found_day = true;
    } else if (!found_month && month_of_token(token) != 0) {
      month = month_of_token(token);
      found_month = true;
    } else if (!found_year && read_number(digits = token, 2, 4, year)) {
      found_year = true;
    }
  }
  if (!found_time || !found_day || !found_month || !found_year) return std::nullopt;
  if (year >= 70 && year <= 99) year += 1900;
  else if (year >= 0 && year <= 69) year += 2000;
  if (day < 1 || day > 31 || year < 1601 || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) return std::nullopt;  // the 30th of February and the like
  const std::int64_t days = std::chrono::sys_days{date}.time_since_epoch().count();
  return days * 86400 + hour * 3600 + minute * 60 + second;
}

bool domain_matches(std::string_view host, std::string_view domain) {
  if (domain.empty()) return false;
  if (common::equals_ignoring_case(host, domain)) return true;
  if (host.size() <= domain.size() || is_ip_address(host)) return false;
  std::size_t boundary = host.size() - domain.size();
  return host[boundary - 1] == '.' && common::equals_ignoring_case(host.substr(boundary), domain);
}

bool path_matches(std::string_view request_path, std::string_view cookie_path) {
  if (request_path == cookie_path) return true;
  if (request_path.size() <= cookie_path.size() || request_path.substr(0, cookie_path.size()) != cookie_path)
    return false;
  return cookie_path.back() == '/' || request_path[cookie_path.size()] == '/';
}

std::string_view default_cookie_path(std::string_view request_path) {
  std::string_view path = path_only(request_path);
  if (path.empty() || path.front() != '/') return "/";
  std::size_t last_slash = path.rfind('/');
  if (last_slash == 0) return "/";
  return path.substr(0, last_slash);
}

bool CookieJar::store(std::string_view set_cookie, std::string_view scheme, std::string_view host,
                      std::string_view request_path, std::int64_t now_s) {
  (void)scheme;  // see the header: RFC 6265 stores Secure cookies whatever the scheme
  const std::size_t pair_end = set_cookie.find(';');
  const std::string_view pair = set_cookie.substr(0, pair_end);
  std::string_view attributes = pair_end == std::string_view::npos ? std::string_view{} : set_cookie.substr(pair_end + 1);
  const std::size_t equals = pair.find('=');
  if (equals == std::string_view::npos) return false;
  const std::string_view name = common::trim_whitespace(pair.substr(0, equals));
  const std::string_view value = common::trim_whitespace(pair.substr(equals + 1));
  if (name.empty() || has_control_char(name) || has_control_char(value)) return false;
  if (name.size() + value.size() > kMaxCookieBytes) return false;

  // Attributes: for each name the last usable one wins (RFC 6265 5.3: "the last attribute").
  std::optional<std::int64_t> max_age_expiry, expires_expiry;
  std::optional<std::string> domain_attribute;
  std::optional<std::string_view> path_attribute;
  bool secure = false, http_only = false;
  while (!attributes.empty()) {
    const std::size_t end = attributes.find(';');
    const std::string_view attribute = attributes.substr(0, end);
    attributes = end == std::string_view::npos ? std::string_view{} : attributes.substr(end + 1);
    const std::size_t attribute_equals = attribute.find('=');
    const std::string_view key = common::trim_whitespace(attribute.substr(0, attribute_equals));
    const std::string_view argument =
        attribute_equals == std::string_view::npos ? std::string_view{} : common::trim_whitespace(attribute.substr(attribute_equals + 1));
    if (argument.size() > kMaxAttributeBytes) continue;
    if (common::equals_ignoring_case(key, "expires")) {
      if (auto when = parse_cookie_date(argument)) expires_expiry = *when;
    } else if (common::equals_ignoring_case(key, "max-age")) {
      if (auto seconds = parse_max_age(argument)) {
        // Zero or less means "already expired"; otherwise now + seconds, saturating.
        if (*seconds <= 0) max_age_expiry = 0;
        else max_age_expiry = *seconds > std::numeric_limits<std::int64_t>::max() - now_s
                                  ? std::numeric_limits<std::int64_t>::max()
                                  : now_s + *seconds;
      }
    } else if (common::equals_ignoring_case(key, "domain")) {
      // An empty Domain is ignored; ".example.com" means "example.com".
      if (!argument.empty()) domain_attribute = lower(argument.front() == '.' ? argument.substr(1) : argument);
    } else if (common::equals_ignoring_case(key, "path")) {
      // A Path that is not absolute falls back to the default path.
      path_attribute = !argument.empty() && argument.front() == '/' ? std::optional(argument) : std::nullopt;
    } else if (common::equals_ignoring_case(key, "secure")) {
      secure = true;
    } else if (common::equals_ignoring_case(key, "httponly")) {
      http_only = true;
    }
  }

  Cookie cookie;
  cookie.name.assign(name);
  cookie.value.assign(value);
  cookie.secure = secure;
  cookie.http_only = http_only;
  if (max_age_expiry) {
    cookie.expires_at = *max_age_expiry;
  } else if (expires_expiry) {
    // Dates before 1970 are negative; they are just as expired as the epoch.
    cookie.expires_at = std::max<std::int64_t>(*expires_expiry, 0);
  }

  const std::string request_host = lower(unbracket(host));
  if (domain_attribute && !domain_attribute->empty()) {
    if (is_ip_address(request_host)) {
      // An address has no subdomains: a Domain naming that address gives a host-only cookie.
      if (*domain_attribute != request_host) return false;
      cookie.host_only = true;
    } else {
      if (!domain_matches(request_host, *domain_attribute)) return false;  // a cookie for someone else
      cookie.host_only = false;
    }
    cookie.domain = std::move(*domain_attribute);
  } else {
    cookie.host_only = true;
    cookie.domain = request_host;
  }
  cookie.path.assign(path_attribute ? *path_attribute : default_cookie_path(request_path));

  if (is_expired(cookie, now_s)) {
    // An expiry in the past is how servers delete a cookie.
    return std::erase_if(cookies_, [&](const Cookie& known) {
             return same_identity(known, cookie.name, cookie.domain, cookie.path);
           }) > 0;
  }
  insert(std::move(cookie));
  return true;
}

void CookieJar::header_for(std::string_view scheme, std::string_view host, std::string_view path, std::int64_t now_s,
                           std::string& out) {
  if (cookies_.empty()) return;  // most load tests: nothing to match, sort or expire
  drop_expired(now_s);
  const bool secure_channel = common::equals_ignoring_case(scheme, "https");
  const std::string_view request_host = unbracket(host);
  std::string_view request_path = path_only(path);
  if (request_path.empty()) request_path = "/";

  matching_.clear();
  for (std::size_t i = 0; i < cookies_.size(); ++i) {
    const Cookie& cookie = cookies_[i];
    if (cookie.secure && !secure_channel) continue;
    const bool host_ok =
        cookie.host_only ? common::equals_ignoring_case(request_host, cookie.domain) : domain_matches(request_host, cookie.domain);
    if (host_ok && path_matches(request_path, cookie.path)) matching_.push_back(i);
  }
  std::sort(matching_.begin(), matching_.end(),
            [this](std::size_t a, std::size_t b) { return sent_before(cookies_[a], cookies_[b]); });
  bool first = true;
  for (std::size_t index : matching_) {
    Cookie& cookie = cookies_[index];
    if (!first) out += "; ";
    first = false;
    out += cookie.name;
    out += '=';
    out += cookie.value;
    cookie.last_access = ++clock_;
  }
}

bool CookieJar::set(Cookie cookie) {
  const bool name_ok = !cookie.name.empty() && !has_control_char(cookie.name) &&
                       cookie.name.find_first_of("=; \t,") == std::string::npos;
  const bool value_ok = !has_control_char(cookie.value) && cookie.value.find(';') == std::string::npos;
  if (!name_ok || !value_ok || cookie.name.size() + cookie.value.size() > kMaxCookieBytes) return false;
  std::string_view domain = unbracket(cookie.domain);
  if (!domain.empty() && domain.front() == '.') domain.remove_prefix(1);
  if (domain.empty() || has_control_char(domain)) return false;
  cookie.domain = lower(domain);
  if (cookie.path.empty()) cookie.path = "/";
  if (cookie.path.front() != '/' || has_control_char(cookie.path)) return false;
  if (cookie.expires_at < 0) cookie.expires_at = -1;
  insert(std::move(cookie));
  return true;
}

bool CookieJar::remove(std::string_view name, std::string_view domain, std::string_view path) {
  domain = unbracket(domain);
  if (!domain.empty() && domain.front() == '.') domain.remove_prefix(1);
  return std::erase_if(cookies_, [&](const Cookie& cookie) {
           return cookie.name == name && (domain.empty() || common::equals_ignoring_case(cookie.domain, domain)) &&
                  (path.empty() || cookie.path == path);
         }) > 0;
}

const std::vector<Cookie>& CookieJar::all(std::int64_t now_s) {
  drop_expired(now_s);
  return cookies_;
}

void CookieJar::insert(Cookie cookie) {
  cookie.last_access = ++clock_;
  for (Cookie& known : cookies_) {
    if (same_identity(known, cookie.name, cookie.domain, cookie.path)) {
      cookie.creation = known.creation;  // RFC 6265 5.3 step 11: a replacement keeps its place in the order
      known = std::move(cookie);
      return;
    }
  }
  cookie.creation = cookie.last_access;
  const std::string domain = cookie.domain;
  cookies_.push_back(std::move(cookie));
  enforce_bounds(domain);
}

void CookieJar::drop_expired(std::int64_t now_s) {
  std::erase_if(cookies_, [now_s](const Cookie& cookie) { return is_expired(cookie, now_s); });
}

// Drops the least recently used cookies of `domain`, then of the whole jar, until both bounds
// hold. The cookie just stored is the most recently used, so it always stays.
void CookieJar::enforce_bounds(std::string_view domain) {
  auto evict_least_recent = [this](auto&& in_scope) {
    auto victim = cookies_.end();
    for (auto it = cookies_.begin(); it != cookies_.end(); ++it)
      if (in_scope(*it) && (victim == cookies_.end() || it->last_access < victim->last_access)) victim = it;
    cookies_.erase(victim);
  };
  auto in_domain = [domain](const Cookie& cookie) { return cookie.domain == domain; };
  while (static_cast<std::size_t>(std::count_if(cookies_.begin(), cookies_.end(), in_domain)) > kMaxCookiesPerDomain)
    evict_least_recent(in_domain);
  while (cookies_.size() > kMaxCookies) evict_least_recent([](const Cookie&) { return true; });
}

}  // namespace cicada::http
