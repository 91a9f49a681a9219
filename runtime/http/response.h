#pragma once
// A finished HTTP exchange as handed to Lua: status, headers, body, timing and error.
// Buffers are swapped in and out of a per-thread pool so steady-state requests reuse memory.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cicada::http {

struct HeaderSpan {
  std::uint32_t name_offset, name_length, value_offset, value_length;
};

// Where the time of one exchange went, in nanoseconds (h2o's per-request timings record).
// dns, connect and tls are zero on a reused keep-alive connection.
struct Timings {
  std::uint64_t dns_ns = 0;      // name resolution (0 for numeric hosts and cached names)
  std::uint64_t connect_ns = 0;  // TCP connect
  std::uint64_t tls_ns = 0;      // TLS handshake
  std::uint64_t send_ns = 0;     // writing the request
  std::uint64_t wait_ns = 0;     // from the request written to the first byte of the answer
  std::uint64_t receive_ns = 0;  // from the first byte to the last
  // In cicada's own write batch before the write (see WriteBatch). Not part of `elapsed`: like
  // wrk, cicada starts no request's clock before its bytes go to the kernel, so the generator
  // does not add its own delay to the server's response times.
  std::uint64_t queued_ns = 0;
};

struct ResponseData {
  int status = 0;              // 0 when the exchange failed before a status line arrived
  std::string error;           // empty on success; a short reason otherwise
  std::string header_bytes;    // the head's header lines as received; spans point into it
  std::vector<HeaderSpan> headers;
  std::string body;
  std::uint64_t elapsed_ns = 0;
  std::uint64_t completed_ns = 0;    // uv_hrtime() when the exchange ended
  std::uint64_t content_length = 0;  // body bytes received
  bool body_discarded = false;       // past the run's body budget: counted, not kept
  Timings timings;

  std::string_view header_name(const HeaderSpan& h) const { return {header_bytes.data() + h.name_offset, h.name_length}; }
  std::string_view header_value(const HeaderSpan& h) const { return {header_bytes.data() + h.value_offset, h.value_length}; }
  // First header with this name, compared case-insensitively.
  const HeaderSpan* find_header(std::string_view header) const;

  void clear() {
    status = 0;
    error.clear();
    header_bytes.clear();
    headers.clear();
    body.clear();
    elapsed_ns = 0;
    completed_ns = 0;
    content_length = 0;
    body_discarded = false;
    timings = Timings{};
  }
  void swap(ResponseData& other) noexcept;
};

// Standard reason phrase for a status code ("Not Found", RFC 9110 and the IANA registry),
// or "" when the code is not registered.
std::string_view reason_phrase(int status);

}  // namespace cicada::http
