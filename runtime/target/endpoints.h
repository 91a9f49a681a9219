#pragma once
// What the target serves, independent of sockets: routing a request, and the documents the
// endpoints answer with. Fixed documents are built once per process and shared read-only by all
// threads, so that serving them costs no allocation.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace cicada::target {

inline constexpr uint64_t kMaxDelayMs = 60'000;
inline constexpr uint64_t kMaxGeneratedBytes = uint64_t{64} << 20;
inline constexpr uint64_t kItemCount = 100;
inline constexpr uint64_t kMovieCount = 1000;
inline constexpr uint64_t kMinMovieYear = 1900;
inline constexpr uint64_t kMaxMovieYear = 2030;
inline constexpr uint64_t kJobCount = 1000;
inline constexpr uint64_t kListedJobCount = 20;
// Behind /proxy/, every this many-th authorized request on a connection is rate limited.
inline constexpr uint64_t kProxyRateLimitEvery = 5;
// The longest chain /redirect/{n} and /absolute-redirect/{n} start.
inline constexpr uint64_t kMaxRedirects = 100;
// Caps on what one query may ask for, so that a 32 KiB request cannot make a head of megabytes
// (every Set-Cookie line repeats the attributes).
inline constexpr size_t kMaxCookiesPerAnswer = 50;
inline constexpr size_t kMaxCookieAttributesBytes = 1024;
inline constexpr size_t kMaxAddedHeaders = 100;

enum class Endpoint {
  root,
  fixed_json,  // a constant JSON document, in Route::text
  echo,
  status,
  delay,
  bytes,
  chunked,
  login,
  items,
  item,
  close,
  validate_key,
  movie,
  movie_by_title,
  optimize,
  proxy,
  proxy_failure,
  jobs,
  job,
  admin_stats,
  search,
  // For the HTTP client's own tests (redirects, cookies, compression, authentication).
  redirect,           // /redirect/{n}
  absolute_redirect,  // /absolute-redirect/{n}
  redirect_to,
  redirect_loop,
  cookies,
  set_cookies,
  delete_cookies,
  gzip,
  deflate,
  corrupt_gzip,
  basic_auth,
  response_headers,
  not_found,
};

// Views into the path that was routed, so valid as long as it is.
struct Route {
  Endpoint endpoint = Endpoint::not_found;
  // What the path holds beyond the endpoint's name, still URL-encoded: "418" in /status/418, the
  // title in /api/title/{title}/{year}, "/v1/models" in /proxy/v1/models, "{user}/{password}" in
  // /basic-auth/{user}/{password}. For fixed_json, the document itself.
  std::string_view text;
  // The number in /status/{code}, /delay/{ms}, /bytes/{n}, /chunked/{n}, /items/{id},
  // /api/id/{id}, /api/jobs/{id}, /proxy/fail/{status}, /redirect/{n}, /absolute-redirect/{n},
  // and the year in /api/title/{title}/{year}; empty when that path segment is not a plain
  // decimal number.
  std::optional<uint64_t> number;
};

struct RequestTarget {
  std::string_view path;
  std::string_view query;  // raw, without the '?'
};

// Splits a request-target into path and query; the absolute form a proxy would send
// ("http://host/path") is reduced to its path, and a fragment is dropped.
RequestTarget split_request_target(std::string_view target);

Route route_path(std::string_view path);

// Most endpoints answer every method alike; those that act on the method answer the others with
// 405. Returns the Allow header line for that answer, or nothing when `method` (an llhttp_method)
// is answered. HEAD is answered wherever GET is.
std::optional<std::string_view> method_not_allowed(Endpoint endpoint, uint8_t method);

// Whether the endpoint looks at the request body, which is otherwise dropped as it arrives.
bool reads_request_body(Endpoint endpoint, uint8_t method);

std::string_view items_document();
// The document of item `id`, or an empty view when there is no such item; likewise for movies
// and jobs.
std::string_view item_document(uint64_t id);
std::string_view movie_document(uint64_t id);
// The first kListedJobCount jobs.
std::string_view jobs_document();
std::string_view job_document(uint64_t id);
std::string_view optimize_accepted_document();
std::string_view admin_stats_document();

// What POST /api/validate-key accepts.
bool is_valid_api_key(std::string_view key);

// The movie id /api/title/{title}/{year} reports: 1..kMovieCount, the same in every run.
uint64_t movie_id_for_title(std::string_view title, uint64_t year);

// The /api/search document: the listed jobs whose name contains `query`, ignoring ASCII case.
void append_search_document(std::string& out, std::string_view query);

// Builds every fixed document now (the compressed ones included), so that the first requests
// do not pay for it and a failure (zlib out of memory) is reported at start-up. Throws
// std::runtime_error when a document cannot be built.
void prepare_documents();

// /gzip and /deflate: a fixed JSON document, compressed once per process.
struct CompressedDocument {
  std::string_view plain;    // what `encoded` decodes to
  std::string_view encoded;  // the body as sent
};
const CompressedDocument& gzip_document();     // gzip format (RFC 1952), Content-Encoding: gzip
const CompressedDocument& deflate_document();  // zlib format (RFC 1950), Content-Encoding: deflate
// /gzip/corrupt: a gzip header followed by bytes no inflater accepts.
std::string_view corrupt_gzip_body();

// The body of the last hop of /redirect/{n} and /absolute-redirect/{n}.
std::string_view redirected_document();

// Appends `count` bytes of the endless stream "abcdefghijklmnopqrstuvwxyzabc...", starting
// `offset` bytes into it: a response can be produced in slices and still be one stream.
void append_generated_bytes(std::string& out, uint64_t offset, size_t count);

// Request headers as a connection stores them: names lower-cased, names and values back to back
// in one string, located by offsets (which, unlike views, survive the string growing).
struct HeaderField {
  uint32_t name_offset = 0;
  uint32_t name_length = 0;
  uint32_t value_offset = 0;
  uint32_t value_length = 0;
};

struct HeaderFields {
  std::string_view storage;
  std::span<const HeaderField> fields;

  std::string_view name(const HeaderField& field) const { return storage.substr(field.name_offset, field.name_length); }
  std::string_view value(const HeaderField& field) const { return storage.substr(field.value_offset, field.value_length); }
  // The first value of header `lower_case_name`.
  std::optional<std::string_view> find(std::string_view lower_case_name) const;
};

struct EchoedRequest {
  std::string_view method;
  RequestTarget target;
  HeaderFields headers;
  std::string_view body;
};

// The /echo document: {"method","path","query","args","headers","body"}.
void append_echo_document(std::string& out, const EchoedRequest& request);

// The still URL-encoded value of the last `key=value` pair with this key (compared as sent), as
// the last value of a repeated key is the one /echo reports.
std::optional<std::string_view> find_query_value(std::string_view query, std::string_view key);

// Where URL-encoded text comes from: a query string, as an HTML form encodes it, also has '+' for
// a space; in a path, '+' is itself.
enum class UrlPart { path, query };

// Appends `text` with %XX sequences decoded (and '+' in a query).
void append_url_decoded(std::string& out, std::string_view text, UrlPart part);

// What a check of client input returns: nothing when the input is good, else the message of the
// 400 (a string literal, so that it outlives the buffers the answer is built in).
using InputError = std::optional<std::string_view>;

// The Location line of /redirect/{n}: "Location: /redirect/{next}\r\n"; with a host, the line of
// /absolute-redirect/{n}: "Location: http://{host}/absolute-redirect/{next}\r\n". The host must
// have passed is_host_and_port.
void append_redirect_location(std::string& line, uint64_t next, std::optional<std::string_view> host);

// /redirect-to?url=...&status=...: appends the Location line for the URL-decoded `url` and sets
// `status` (302 unless the query says 301, 303, 307 or 308).
InputError append_redirect_to_location(std::string& line, unsigned& status, std::string_view query);

// /cookies/set?name=value&...: appends one "Set-Cookie: name=value; Path=/" line per pair of the
// query (URL-decoded, in order), each followed by "; " and the URL-decoded `_attrs` value when
// the query has one. `attributes` is a buffer for that value.
InputError append_set_cookie_lines(std::string& lines, std::string& attributes, std::string_view query);

// /cookies/delete?name&...: one "Set-Cookie: name=; Max-Age=0; Path=/" line per key of the query
// (any value is ignored).
InputError append_delete_cookie_lines(std::string& lines, std::string_view query);

// The /cookies document {"cookies":{"name":"value",...}} from every Cookie header of the request,
// in the order sent; a repeated name keeps its first value, as the client sends the cookie of
// the most specific path first (RFC 6265, 5.4). Values are as sent, quotes included.
void append_cookies_document(std::string& out, const HeaderFields& headers);

// The "user:password" an `Authorization: Basic ...` value carries, appended to `credentials`;
// false for another scheme or malformed base64.
bool append_basic_credentials(std::string& credentials, std::string_view authorization);

// /response-headers?Name=value&...: appends one header line per pair of the query (URL-decoded,
// in order, repeated names kept) to `lines`, and the body, a JSON array of [name, value] pairs,
// to `document`. `sets_content_type` tells whether one of them is Content-Type, which then
// replaces the target's own. Content-Length, Transfer-Encoding and Connection are refused: the
// target frames its answers itself.
InputError append_added_headers(std::string& lines, std::string& document, bool& sets_content_type,
                                std::string_view query);

}  // namespace cicada::target
