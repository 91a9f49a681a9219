#pragma once
// One keep-alive HTTP/1.1 connection to one endpoint (scheme, host, port), carrying one exchange
// at a time, over plain TCP or TLS.
//
// Lifetime: created by a Client, destroyed by destroy(), which closes the socket and the timer;
// the object is freed in the timer's close callback (handle memory lives until uv_close is done).
// The Socket is its own heap object for the same reason (see socket.h).
//
// An exchange never completes inside start(): failures found there are delivered from the loop,
// so the caller has always yielded before its completion runs.
#include <llhttp.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/http/content_decoder.h"
#include "runtime/http/dns_cache.h"
#include "runtime/http/response.h"
#include "runtime/http/tls.h"
#include "runtime/http/url.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace cicada::http {

class HttpRuntime;
class Transport;
struct Socket;

// Limits and timeouts of one exchange; zero means the runtime's default (or "none" where said).
struct ExchangeLimits {
  double timeout_s = 0;             // the whole exchange, from start() to the last byte
  double connect_timeout_s = 0;     // name resolution + TCP connect + TLS handshake
  double first_byte_timeout_s = 0;  // from the request sent to the first byte of the answer; 0 = none
  double idle_timeout_s = 0;        // longest silence while the answer arrives; 0 = none
  std::size_t max_body = 0;         // bytes of body kept; more is the failure "body too large"
  bool discard_body = false;        // count the body's bytes without keeping them
};

class Connection final : public DnsWaiter {
 public:
  // Called when an exchange ends, successfully or not; `response` may be swapped out.
  // The response is the connection's own buffer, valid during the call: the callee copies
  // what it keeps, and the buffer keeps its capacity for the next exchange.
  using Completion = void (*)(void* waiter, ResponseData& response);

  struct Exchange {
    std::string_view method;
    ExchangeLimits limits;
    const TlsSettings* tls = nullptr;  // https: how to verify and which client certificate
    std::uint64_t started_ns = 0;      // uv_hrtime() of the call, when the caller has it (saves a clock read)
    void* waiter = nullptr;
    Completion on_complete = nullptr;
  };

  Connection(HttpRuntime* runtime, const Url& endpoint);

  bool busy() const { return waiter_ != nullptr; }
  const Url& endpoint() const { return endpoint_; }
  const std::string& host_header() const { return host_header_; }  // for the Host header
  const std::string& origin() const { return origin_; }            // "http://host:port", for URLs
  // Filled by the caller with the whole request (head and body) before start().
  std::string& request_bytes() { return request_; }
  void start(const Exchange& exchange);
  // The waiter is gone (user stopped): forget the exchange, close the socket, record nothing.
  void abort();
  // Closes everything and frees the connection once libuv is done with its handles.
  void destroy();

  // For sockets and transports.
  void on_transport_ready();
  void on_transport_failed(const std::string& reason);
  void on_plaintext(const char* data, std::size_t length);
  void on_peer_closed();
  void on_write_failed(int uv_error);
  // `now`: uv_hrtime() just before (on_batch_write) or after (on_write_drained) the write;
  // the write batch reads the clock once between two sockets' writes. 0: read it here.
  void on_batch_write(std::uint64_t now);
  void on_write_drained(std::uint64_t now = 0);
  void on_resolved(const ResolvedAddresses& result) override;
  SSL_CTX* tls_context(std::string* error);
  TlsContexts& tls_contexts();
  const std::string& tls_session_key() const { return tls_->session_key; }

 private:
  enum class State { Disconnected, Resolving, Connecting, Handshaking, Connected };
  enum class TimerPurpose { None, Deadline, DeliverFailure };

  ~Connection() override = default;
  void begin_connect();
  void open_socket();
  void on_connect(int status);
  void send_request();
  void on_socket_read(ssize_t nread, const char* data);
  void on_connection_lost(int uv_error);
  bool may_send_again() const;
  bool peer_spoke_while_idle() const;
  bool take_budget_for(std::uint64_t size);
  void discard_over_budget();
  void give_back_budget();
  void drop_socket();
  void arm_deadline();
  void on_timer();
  void fail(std::string_view error);
  void fail_from_loop(std::string_view error);
  // `now`: the time the last byte arrived, when the caller has it (0: read the clock).
  void complete(bool keep_alive, std::uint64_t now = 0);
  std::string decoding_failure() const;
  bool connecting() const {
    return state_ == State::Resolving || state_ == State::Connecting || state_ == State::Handshaking;
  }

  bool note_head_span(const char* at, std::size_t length, std::uint32_t* offset);
  void keep_head_bytes(const char* until);
  static int on_message_begin(llhttp_t* parser);
  static int on_header_field(llhttp_t* parser, const char* at, std::size_t length);
  static int on_header_value(llhttp_t* parser, const char* at, std::size_t length);
  static int on_headers_complete(llhttp_t* parser);
  static int on_body(llhttp_t* parser, const char* at, std::size_t length);
  static int on_message_complete(llhttp_t* parser);
  static const llhttp_settings_t& parser_settings();

  HttpRuntime* runtime_;
  Url endpoint_;
  std::string host_header_;
  std::string origin_;
  Transport* transport_;
  State state_ = State::Disconnected;
  Socket* socket_ = nullptr;
  uv_timer_t timer_{};
  TimerPurpose timer_purpose_ = TimerPurpose::None;
  std::uint64_t timer_due_ns_ = 0;  // when an armed deadline timer fires
  std::vector<sockaddr_storage> addresses_;
  std::size_t next_address_ = 0;
  int last_connect_error_ = 0;
  // Only https connections carry TLS settings; plain ones keep the memory (thousands of users).
  struct TlsState {
    TlsSettings settings;
    std::string key;          // settings.key(): a change means a new socket
    std::string session_key;  // origin + settings: whose sessions may be resumed
    std::uint32_t generation = 0;
  };
  std::unique_ptr<TlsState> tls_;

  // The exchange in progress.
  void* waiter_ = nullptr;
  Completion on_complete_ = nullptr;
  std::string request_;
  ExchangeLimits limits_;
  std::uint64_t started_ns_ = 0;
  std::uint64_t deadline_ns_ = 0;
  std::uint64_t connect_deadline_ns_ = 0;
  std::uint64_t phase_started_ns_ = 0;  // start of the current timing phase
  std::uint64_t sent_ns_ = 0;           // request fully handed to the kernel
  std::uint64_t last_byte_ns_ = 0;      // latest bytes of the answer
  std::uint64_t bytes_taken_before_send_ = 0;  // the socket's bytes_taken when this request began
  std::uint64_t budget_taken_ = 0;  // bytes of the run's body budget this exchange holds
  bool keep_body_ = false;           // the request set max_body: kept whatever the budget says
  bool over_budget_ = false;         // the rest of this body is counted, not kept
  bool reused_socket_ = false;
  bool retried_ = false;
  bool response_started_ = false;
  bool message_complete_ = false;
  bool head_request_ = false;
  bool idempotent_ = false;  // may be sent again when a kept-alive connection turns out closed
  bool in_start_ = false;
  bool destroyed_ = false;
  // The parser's and the decoder's flags sit with the others: a connection per user is 1,024
  // bytes, one size class of the allocator, where 8 more would take the next (1,280).
  bool last_was_value_ = false;
  bool head_folded_ = false;
  bool decoding_ = false;  // the body arrives compressed and is decoded as it comes
  int write_error_ = 0;  // a failed write, reported once the read side has had its say
  std::string pending_error_;
  std::string callback_error_;  // set by a parser callback that stopped the parse

  llhttp_t parser_{};
  // The head being parsed (see note_head_span): null once it is complete or before its first name.
  const char* head_from_ = nullptr;
  const char* head_end_ = nullptr;
  std::unique_ptr<ContentDecoder> decoder_;  // made for the first compressed response, then reused
  ResponseData response_;
};

}  // namespace cicada::http
