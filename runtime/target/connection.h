#pragma once
// One accepted client connection of the target: llhttp parses requests, which are answered
// strictly in order. While an answer is still being produced (a /delay timer, a large generated
// body, or too much unsent output) the parser stays paused and reading stops, so a pipelining or
// misbehaving client is held back by TCP flow control rather than by buffering its data.

#include <llhttp.h>
#include <uv.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/target/endpoints.h"
#include "runtime/target/http_response.h"

namespace cicada::target {

class Worker;

class Connection {
 public:
  // Accepts the pending connection on `listener`. The connection then owns itself: libuv holds
  // its handles, and it is freed in the close callback of the last of them.
  static void accept(Worker& worker, uv_stream_t* listener);

  // Starts closing; harmless when already closing.
  void close();

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The worker's intrusive list, so that shutdown can reach every connection.
  Connection* previous_in_worker = nullptr;
  Connection* next_in_worker = nullptr;

 private:
  explicit Connection(Worker& worker);
  ~Connection() = default;

  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }

  // libuv callbacks.
  static void on_alloc(uv_handle_t* handle, size_t suggested_size, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* request, int status);
  static void on_shutdown(uv_shutdown_t* request, int status);
  static void on_timer(uv_timer_t* timer);
  static void on_closed(uv_handle_t* handle);

  // llhttp callbacks.
  static const llhttp_settings_t& parser_settings();
  static int on_message_begin(llhttp_t* parser);
  static int on_url(llhttp_t* parser, const char* at, size_t length);
  static int on_header_field(llhttp_t* parser, const char* at, size_t length);
  static int on_header_field_complete(llhttp_t* parser);
  static int on_header_value(llhttp_t* parser, const char* at, size_t length);
  static int on_headers_complete(llhttp_t* parser);
  static int on_body(llhttp_t* parser, const char* at, size_t length);
  static int on_message_complete(llhttp_t* parser);
  int reject_request(unsigned status, const char* reason);

  // Input.
  void handle_input(const char* data, size_t size);
  size_t parse(const char* data, size_t size);
  void parse_unparsed_input();
  bool ready_for_next_request() const;
  void update_reading();

  // Answers.
  void respond();
  // A listener with a Site (server.h): the site answers, the target's endpoints do not.
  void respond_for_site();
  void respond_to_parse_error();
  void respond_to_status(uint64_t status);
  void respond_to_login();
  void respond_to_validate_key();
  void respond_to_movie_title();
  void respond_to_proxy();
  void respond_to_jobs();
  void respond_to_job();
  void respond_to_admin_stats();
  void respond_to_search();
  void respond_to_redirect(uint64_t hops_left, bool absolute);
  void respond_to_redirect_to();
  void respond_to_set_cookies();
  void respond_to_delete_cookies();
  void respond_to_cookies();
  void respond_to_basic_auth();
  void respond_to_response_headers();
  bool read_body_string_member(std::string_view name);
  void start_delay(uint64_t milliseconds);
  void finish_delay();
  // --stall: holds the request until the stall ends, then answers it.
  bool hold_for_stall();
  void start_generated_body(uint64_t size, bool chunked);
  void produce_generated_slice();
  void send(unsigned status, std::string_view content_type, std::string_view body,
            std::string_view extra_header_lines = {});
  void send_error(unsigned status, std::string_view message, std::string_view extra_header_lines = {});
  void send_without_body(unsigned status);
  // A redirect: no body, and `header_lines` with the Location (and any Set-Cookie).
  void send_redirect(unsigned status, std::string_view header_lines);
  void send_document_or_404(std::string_view document);
  HeaderFields request_headers() const { return {header_storage_, headers_}; }

  // Output.
  void pump();
  void flush_output();
  size_t buffered_output() const { return out_.size() + (in_flight_.size() - in_flight_offset_); }
  bool idle() const;
  void begin_shutdown();
  void release_oversized_buffers();

  Worker& worker_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};  // a /delay, a --stall, or the lingering close; one at a time
  uv_write_t write_request_{};
  uv_shutdown_t shutdown_request_{};
  int open_handles_ = 2;
  llhttp_t parser_{};

  // The request being parsed, then answered. request_target_ and route_ may view into target_.
  std::string target_;
  RequestTarget request_target_;
  std::string header_storage_;
  std::vector<HeaderField> headers_;
  bool in_header_name_ = false;
  std::string body_;
  bool keep_body_ = false;
  bool body_too_large_ = false;
  Route route_;
  uint8_t method_ = 0;
  bool http_1_0_ = false;
  bool keep_alive_ = true;
  bool request_complete_ = false;
  unsigned parse_error_status_ = 400;

  // How the current answer is framed, fixed when the request is complete.
  bool head_only_ = false;
  ConnectionHeader connection_header_ = ConnectionHeader::omit;

  // An answer still in production.
  bool delay_pending_ = false;
  uint64_t delay_ms_ = 0;
  bool stall_pending_ = false;  // a complete request held until the stall ends
  uint64_t generated_remaining_ = 0;
  uint64_t generated_offset_ = 0;
  bool generated_chunked_ = false;

  // Bytes received but not parsed yet, because the answer before them is not finished.
  std::string unparsed_;
  // Documents being assembled before their length is known (/echo, /login, errors), or the
  // header lines of an answer (Location, Set-Cookie).
  std::string scratch_;
  // Client text decoded from JSON or URL encoding (a user name, a search query), messages for
  // send_error, which cannot take them from scratch_, and the body of /response-headers.
  std::string decoded_;

  // The rate limiter behind /proxy/ counts per connection, so that a test can predict it.
  uint64_t authorized_proxy_requests_ = 0;

  // Output: responses accumulate in out_; in_flight_ belongs to libuv during a uv_write.
  std::string out_;
  std::string in_flight_;
  size_t in_flight_offset_ = 0;
  bool write_in_flight_ = false;

  bool reading_ = false;
  bool input_ended_ = false;       // the client half-closed: answer what came, then close
  bool no_more_requests_ = false;  // an answer said "Connection: close"
  bool shutdown_started_ = false;
  bool lingering_ = false;         // our FIN is sent: drain the client's bytes until its FIN
  bool closing_ = false;
};

}  // namespace cicada::target
