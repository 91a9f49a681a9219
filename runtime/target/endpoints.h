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
  not_found,
};

// Views into the path that was routed, so valid as long as it is.
struct Route {
  Endpoint endpoint = Endpoint::not_found;
  // What the path holds beyond the endpoint's name, still URL-encoded: "418" in /status/418, the
  // title in /api/title/{title}/{year}, "/v1/models" in /proxy/v1/models. For fixed_json, the
  // document itself.
  std::string_view text;
  // The number in /status/{code}, /delay/{ms}, /bytes/{n}, /chunked/{n}, /items/{id},
  // /api/id/{id}, /api/jobs/{id}, /proxy/fail/{status}, and the year in /api/title/{title}/{year};
  // empty when that path segment is not a plain decimal number.
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

}  // namespace cicada::target
