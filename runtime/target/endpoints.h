#pragma once
// What the target serves, independent of sockets: routing a request path, and the documents the
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

enum class Endpoint { root, json, echo, status, delay, bytes, chunked, login, items, item, close, not_found };

struct Route {
  Endpoint endpoint = Endpoint::not_found;
  // The number in /status/{code}, /delay/{ms}, /bytes/{n}, /chunked/{n} and /items/{id}; empty
  // when that path segment is not a plain decimal number.
  std::optional<uint64_t> parameter;
};

struct RequestTarget {
  std::string_view path;
  std::string_view query;  // raw, without the '?'
};

// Splits a request-target into path and query; the absolute form a proxy would send
// ("http://host/path") is reduced to its path, and a fragment is dropped.
RequestTarget split_request_target(std::string_view target);

Route route_path(std::string_view path);

std::string_view fixed_json_document();
std::string_view items_document();
// The document of item `id`, or an empty view when there is no such item.
std::string_view item_document(uint64_t id);

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

// Appends `text` with %XX sequences and '+' decoded, as in an HTML form's query string.
void append_url_decoded(std::string& out, std::string_view text);

}  // namespace cicada::target
