#pragma once
// One keep-alive HTTP/1.1 connection to one endpoint, carrying one exchange at a time.
//
// Lifetime: created by a Client, destroyed by destroy(), which closes the socket and the timer;
// the object is freed in the timer's close callback (handle memory lives until uv_close is done).
// A socket is its own heap object for the same reason: dropping a connection's socket (server
// closed it, error, abort) never waits for libuv, the Socket frees itself when closed.
//
// An exchange never completes inside start(): failures found there are delivered from the loop,
// so the caller has always yielded before its completion runs.
#include <llhttp.h>
#include <uv.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/http/dns_cache.h"
#include "runtime/http/response.h"
#include "runtime/http/url.h"

namespace cicada::http {

class HttpRuntime;
class Connection;

struct Socket {
  uv_tcp_t tcp{};
  uv_connect_t connect_req{};
  uv_write_t write_req{};
  std::string unsent;  // the part of a request uv_try_write could not take, kept until written
  Connection* owner = nullptr;  // null once the connection dropped this socket
};

// The seam between the socket and HTTP: plain TCP passes bytes through; TLS (a later issue)
// will run its handshake in on_connected and encrypt/decrypt in write/on_read.
class Transport {
 public:
  virtual ~Transport() = default;
  // TCP is up; call connection.on_transport_ready() once requests can flow.
  virtual void on_connected(Connection& connection) = 0;
  // Returns 0 or a libuv error code.
  virtual int write(Socket& socket, std::string_view bytes) = 0;
  // Raw bytes from the socket; deliver application bytes with connection.on_plaintext().
  virtual void on_read(Connection& connection, const char* data, std::size_t length) = 0;
};

class Connection final : public DnsWaiter {
 public:
  // Called when an exchange ends, successfully or not; `response` may be swapped out.
  using Completion = void (*)(void* waiter, ResponseData& response);

  struct Exchange {
    std::string_view method;
    std::string_view name;  // stats name
    std::string_view url;   // for the response and reports
    double timeout_s = 0;   // whole exchange; 0 = the runtime's default
    double connect_timeout_s = 0;
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

  // For Socket callbacks and transports.
  void on_transport_ready();
  void on_plaintext(const char* data, std::size_t length);
  void on_write_failed(int uv_error);
  void on_resolved(const ResolvedAddresses& result) override;

 private:
  enum class State { Disconnected, Resolving, Connecting, Connected };
  enum class TimerPurpose { None, Deadline, DeliverFailure };

  ~Connection() override = default;
  void begin_connect();
  void open_socket();
  void on_connect(int status);
  void send_request();
  void on_socket_read(ssize_t nread, const char* data);
  void on_connection_lost(int uv_error);
  void drop_socket();
  void arm_deadline();
  void on_timer();
  void fail(std::string_view error);
  void fail_from_loop(std::string_view error);
  void complete(bool keep_alive);

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
  std::vector<sockaddr_storage> addresses_;
  std::size_t next_address_ = 0;
  int last_connect_error_ = 0;

  // The exchange in progress.
  void* waiter_ = nullptr;
  Completion on_complete_ = nullptr;
  std::string method_;
  std::string name_;
  std::string request_;
  std::uint64_t started_ns_ = 0;
  std::uint64_t deadline_ns_ = 0;
  std::uint64_t connect_deadline_ns_ = 0;
  bool reused_socket_ = false;
  bool retried_ = false;
  bool response_started_ = false;
  bool message_complete_ = false;
  bool head_request_ = false;
  bool in_start_ = false;
  bool destroyed_ = false;
  std::string pending_error_;

  llhttp_t parser_{};
  bool last_was_value_ = false;
  ResponseData response_;
};

}  // namespace cicada::http
