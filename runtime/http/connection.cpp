#include "runtime/http/connection.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "runtime/common/log.h"
#include "runtime/http/body_budget.h"
#include "runtime/http/http_runtime.h"
#include "runtime/http/socket.h"
#include "runtime/http/transport.h"

namespace cicada::http {

namespace {

constexpr std::size_t kMaxHeaderBytes = 1 << 20;

Socket* socket_of(uv_handle_t* handle) { return static_cast<Socket*>(handle->data); }

std::uint64_t seconds_to_ns(double seconds) { return static_cast<std::uint64_t>(seconds * 1e9); }

bool is_idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" || method == "OPTIONS" ||
         method == "TRACE";
}

std::string connect_error_text(int uv_error) {
  switch (uv_error) {
    case UV_ECONNREFUSED: return "connect refused";
    case UV_ETIMEDOUT: return "connect timeout";
    case UV_ENETUNREACH:
    case UV_EHOSTUNREACH: return "unreachable";
    case UV_ECONNRESET: return "reset";
    default: return std::string("connect failed (") + uv_err_name(uv_error) + ")";
  }
}

std::string transfer_error_text(int uv_error) {
  switch (uv_error) {
    case UV_EOF: return "closed";
    case UV_ECONNRESET:
    case UV_EPIPE: return "reset";
    case UV_ETIMEDOUT: return "timeout";
    default: return std::string("socket error (") + uv_err_name(uv_error) + ")";
  }
}

class PlainTransport final : public Transport {
 public:
  void on_connected(Connection& connection, Socket&) override { connection.on_transport_ready(); }
  int write(Socket& socket, std::string_view bytes) override { return socket_send(socket, bytes); }
  void on_read(Connection& connection, Socket&, const char* data, std::size_t length) override {
    connection.on_plaintext(data, length);
  }
};

}  // namespace

Transport& plain_transport() {
  static PlainTransport transport;
  return transport;
}

Connection::Connection(HttpRuntime* runtime, const Url& endpoint)
    : runtime_(runtime),
      endpoint_(endpoint),
      host_header_(endpoint.host_header()),
      origin_(endpoint.scheme + "://" + host_header_),
      transport_(endpoint.is_tls() ? &tls_transport() : &plain_transport()) {
  uv_timer_init(runtime_->loop(), &timer_);
  timer_.data = this;
}

SSL_CTX* Connection::tls_context(std::string* error) { return runtime_->tls().context_for(tls_->settings, error); }

TlsContexts& Connection::tls_contexts() { return runtime_->tls(); }

void Connection::start(const Exchange& exchange) {
  in_start_ = true;
  waiter_ = exchange.waiter;
  on_complete_ = exchange.on_complete;
  response_.clear();
  // A body that outgrew the free part of the budget leaves its buffer behind: freed, not kept
  // for reuse (hundreds of idle users would each hold megabytes).
  if (response_.body.capacity() > BodyBudget::kFreeBytes) std::string().swap(response_.body);
  over_budget_ = false;
  keep_body_ = exchange.limits.max_body != 0;  // the request or its class set max_body
  head_from_ = nullptr;
  head_request_ = exchange.method == "HEAD";
  idempotent_ = is_idempotent(exchange.method);
  retried_ = false;
  response_started_ = false;
  message_complete_ = false;
  write_error_ = 0;
  pending_error_.clear();
  callback_error_.clear();

  const HttpDefaults& defaults = runtime_->defaults();
  limits_ = exchange.limits;
  if (limits_.timeout_s <= 0) limits_.timeout_s = defaults.request_timeout_s;
  if (limits_.connect_timeout_s <= 0) limits_.connect_timeout_s = defaults.connect_timeout_s;
  if (limits_.max_body == 0) limits_.max_body = defaults.max_body;
  started_ns_ = exchange.started_ns ? exchange.started_ns : uv_hrtime();
  phase_started_ns_ = started_ns_;
  sent_ns_ = 0;
  last_byte_ns_ = 0;
  deadline_ns_ = started_ns_ + seconds_to_ns(limits_.timeout_s);
  connect_deadline_ns_ = started_ns_ + seconds_to_ns(limits_.connect_timeout_s);

  if (endpoint_.is_tls()) {
    if (!tls_) tls_ = std::make_unique<TlsState>();
    const TlsSettings& wanted = exchange.tls ? *exchange.tls : defaults.tls;
    std::string key = wanted.key();
    if (key != tls_->key) {
      // Other certificates or verification: the open socket was made for something else.
      tls_->settings = wanted;
      tls_->key = std::move(key);
      tls_->session_key = origin_ + "\x1f" + tls_->key;
      ++tls_->generation;
      if (socket_ && socket_->tls_generation != tls_->generation) drop_socket();
    }
  }

  // A request that may not be sent twice first checks that the idle connection is still open,
  // as urllib3 does before reusing one: a server that closed it (an idle timeout) has sent its
  // FIN by now, and the request goes on a new connection instead of meeting a reset there.
  // Idempotent requests skip the system call: they are sent again if they meet a closed one.
  if (state_ == State::Connected && !idempotent_ && peer_spoke_while_idle()) drop_socket();
  if (state_ == State::Connected) {
    reused_socket_ = true;
    arm_deadline();
    send_request();
  } else {
    reused_socket_ = false;
    begin_connect();
  }
  in_start_ = false;
}

void Connection::begin_connect() {
  state_ = State::Resolving;
  phase_started_ns_ = uv_hrtime();
  arm_deadline();
  if (const ResolvedAddresses* known = runtime_->dns().resolve(endpoint_.host, endpoint_.port, this)) on_resolved(*known);
}

void Connection::on_resolved(const ResolvedAddresses& result) {
  if (!result.error.empty()) {
    fail("dns failure");
    return;
  }
  std::uint64_t now = uv_hrtime();
  response_.timings.dns_ns += now - phase_started_ns_;
  phase_started_ns_ = now;
  addresses_ = result.addresses;
  next_address_ = 0;
  last_connect_error_ = UV_EADDRNOTAVAIL;
  open_socket();
}

void Connection::open_socket() {
  while (next_address_ < addresses_.size()) {
    sockaddr_storage address = addresses_[next_address_++];
    std::uint16_t port_be = htons(endpoint_.port);
    if (address.ss_family == AF_INET)
      reinterpret_cast<sockaddr_in*>(&address)->sin_port = port_be;
    else
      reinterpret_cast<sockaddr_in6*>(&address)->sin6_port = port_be;

    socket_ = new Socket;
    socket_->owner = this;
    socket_->batch = &runtime_->writes();
    if (tls_) socket_->tls_generation = tls_->generation;
    socket_->tcp.data = socket_;
    uv_tcp_init(runtime_->loop(), &socket_->tcp);
    uv_tcp_nodelay(&socket_->tcp, 1);
    socket_->connect_req.data = socket_;
    state_ = State::Connecting;
    int rc = uv_tcp_connect(&socket_->connect_req, &socket_->tcp, reinterpret_cast<const sockaddr*>(&address),
                            [](uv_connect_t* req, int status) {
                              auto* socket = static_cast<Socket*>(req->data);
                              if (socket->owner) socket->owner->on_connect(status);
                            });
    if (rc == 0) return;
    last_connect_error_ = rc;
    drop_socket();
  }
  fail(connect_error_text(last_connect_error_));
}

void Connection::on_connect(int status) {
  if (status < 0) {
    last_connect_error_ = status;
    drop_socket();
    if (next_address_ < addresses_.size()) {
      state_ = State::Connecting;
      open_socket();
    } else {
      fail(connect_error_text(status));
    }
    return;
  }
  std::uint64_t now = uv_hrtime();
  response_.timings.connect_ns += now - phase_started_ns_;
  phase_started_ns_ = now;
  state_ = State::Handshaking;
  addresses_.clear();  // the fallbacks are not needed any more; thousands of idle users add up
  addresses_.shrink_to_fit();
  llhttp_init(&parser_, HTTP_RESPONSE, &parser_settings());
  parser_.data = this;
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&socket_->tcp),
      [](uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
        Socket* socket = socket_of(handle);
        *buf = socket->owner ? socket->owner->runtime_->read_buffer() : uv_buf_init(nullptr, 0);
      },
      [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
        Socket* socket = socket_of(reinterpret_cast<uv_handle_t*>(stream));
        if (socket->owner) socket->owner->on_socket_read(nread, buf->base);
      });
  transport_->on_connected(*this, *socket_);
}

void Connection::on_transport_ready() {
  std::uint64_t now = uv_hrtime();
  if (endpoint_.is_tls()) response_.timings.tls_ns += now - phase_started_ns_;
  phase_started_ns_ = now;
  state_ = State::Connected;
  if (!waiter_) return;
  arm_deadline();
  send_request();
}

void Connection::on_transport_failed(const std::string& reason) {
  if (!waiter_) {
    drop_socket();
    return;
  }
  fail(reason);
}

// The send phase started when the caller set phase_started_ns_ (the call, or the end of the
// connect/TLS phase).
void Connection::send_request() {
  bytes_taken_before_send_ = socket_->bytes_taken;
  int rc = transport_->write(*socket_, request_);
  if (rc < 0) {
    on_write_failed(rc);
    return;
  }
  if (socket_ && !socket_->write_pending()) {
    sent_ns_ = uv_hrtime();
    response_.timings.send_ns = sent_ns_ - phase_started_ns_;
    if (limits_.first_byte_timeout_s > 0) arm_deadline();
  }
}

// The write batch is about to write this connection's request: the time it waited there is the
// generator's, not the server's.
void Connection::on_batch_write(std::uint64_t now) {
  if (!waiter_ || state_ != State::Connected || sent_ns_ != 0 || response_started_) return;
  response_.timings.queued_ns += now - phase_started_ns_;
  phase_started_ns_ = now;
}

// The last of a request that the kernel did not take at once has been written.
void Connection::on_write_drained(std::uint64_t now) {
  if (!waiter_ || sent_ns_ != 0 || response_started_) return;
  sent_ns_ = now != 0 ? now : uv_hrtime();
  response_.timings.send_ns = sent_ns_ - phase_started_ns_;
  if (limits_.first_byte_timeout_s > 0) arm_deadline();
}

// A failed write is not the end of the exchange: the server may have answered early (a 413
// before reading the body) and closed. What the read side sees decides.
void Connection::on_write_failed(int uv_error) {
  if (!waiter_) {
    drop_socket();
    return;
  }
  if (write_error_ == 0) write_error_ = uv_error;
  if (may_send_again()) on_connection_lost(uv_error);
}

void Connection::on_socket_read(ssize_t nread, const char* data) {
  if (nread > 0) {
    transport_->on_read(*this, *socket_, data, static_cast<std::size_t>(nread));
    return;
  }
  if (nread == 0) return;  // EAGAIN
  if (nread == UV_EOF) {
    on_peer_closed();
    return;
  }
  on_connection_lost(static_cast<int>(nread));
}

void Connection::on_peer_closed() {
  if (waiter_ && response_started_) {
    // A response without a length ends when the server closes the connection.
    llhttp_finish(&parser_);
    if (!callback_error_.empty()) {
      fail(callback_error_);
      return;
    }
    if (message_complete_) {
      message_complete_ = false;
      complete(false);
      return;
    }
  }
  on_connection_lost(UV_EOF);
}

void Connection::on_plaintext(const char* data, std::size_t length) {
  if (!waiter_) {
    // Bytes nobody asked for on an idle connection: it cannot be trusted for the next request.
    drop_socket();
    return;
  }
  std::uint64_t now = uv_hrtime();
  if (!response_started_) {
    response_started_ = true;
    if (sent_ns_ == 0) {
      // The answer came before the whole request was written (an early response).
      sent_ns_ = now;
      response_.timings.send_ns = now - phase_started_ns_;
    }
    response_.timings.wait_ns = now - sent_ns_;
  }
  last_byte_ns_ = now;
  // The header callbacks record offsets into this read's bytes (see keep_head_bytes).
  if (head_from_) head_from_ = head_end_ = data;
  llhttp_errno_t err = llhttp_execute(&parser_, data, length);
  // A head that goes on in the next read: keep what this read had of it.
  if (head_from_) keep_head_bytes(data + length);
  if (message_complete_) {
    message_complete_ = false;
    bool trailing_bytes = err == HPE_PAUSED && llhttp_get_error_pos(&parser_) != data + length;
    bool keep_alive = llhttp_should_keep_alive(&parser_) && !trailing_bytes && write_error_ == 0 && socket_ &&
                      !socket_->write_pending();
    if (err == HPE_PAUSED) llhttp_resume(&parser_);
    complete(keep_alive, now);
    return;
  }
  if (err != HPE_OK) {
    if (!callback_error_.empty()) {
      fail(callback_error_);
    } else {
      const char* reason = llhttp_get_error_reason(&parser_);
      fail(std::string("bad response (") + (reason && *reason ? reason : llhttp_errno_name(err)) + ")");
    }
    return;
  }
  if (limits_.idle_timeout_s > 0) arm_deadline();
}

void Connection::on_connection_lost(int uv_error) {
  if (!waiter_) {
    drop_socket();
    return;
  }
  // A keep-alive connection the server had already closed: nothing of the request was
  // answered, so it is sent once more on a fresh connection (see may_send_again).
  if (may_send_again()) {
    retried_ = true;
    reused_socket_ = false;
    write_error_ = 0;
    drop_socket();
    begin_connect();
    return;
  }
  if (connecting()) {
    fail(connect_error_text(uv_error));
  } else {
    fail(transfer_error_text(write_error_ != 0 && uv_error == UV_EOF ? write_error_ : uv_error));
  }
}

// True when the peer closed the idle connection or sent bytes nobody asked for (either way it
// cannot carry the next request); the loop has not yet read them.
bool Connection::peer_spoke_while_idle() const {
  uv_os_fd_t fd = -1;
  if (!socket_ || uv_fileno(reinterpret_cast<const uv_handle_t*>(&socket_->tcp), &fd) != 0) return false;
  char byte = 0;
  ssize_t peeked = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return peeked >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

// Go's net/http rule, which python-requests and browsers follow in spirit: a request that met a
// closed kept-alive connection before any answer is sent again, once, when sending it twice is
// harmless (an idempotent method) or when the server cannot have seen it (the kernel took no
// byte of it: the server had closed the connection before the request was written).
bool Connection::may_send_again() const {
  if (!reused_socket_ || response_started_ || retried_) return false;
  return idempotent_ || (socket_ && socket_->bytes_taken == bytes_taken_before_send_);
}

// One timer holds the nearest deadline of the exchange: the connect timeout while connecting,
// the first-byte timeout while waiting, the idle timeout while receiving, the total always.
void Connection::arm_deadline() {
  if (timer_purpose_ == TimerPurpose::DeliverFailure) return;
  std::uint64_t target = deadline_ns_;
  if (connecting()) {
    target = std::min(target, connect_deadline_ns_);
  } else if (!response_started_) {
    if (limits_.first_byte_timeout_s > 0 && sent_ns_ != 0)
      target = std::min(target, sent_ns_ + seconds_to_ns(limits_.first_byte_timeout_s));
  } else if (limits_.idle_timeout_s > 0) {
    target = std::min(target, last_byte_ns_ + seconds_to_ns(limits_.idle_timeout_s));
  }
  // Most exchanges end long before their deadline. Rather than stop and restart the timer for
  // every request (two heap operations), a timer that fires no later than needed stays armed:
  // when it fires early, on_timer() arms it again for what is left.
  if (timer_purpose_ == TimerPurpose::Deadline && uv_is_active(reinterpret_cast<uv_handle_t*>(&timer_)) &&
      timer_due_ns_ <= target)
    return;
  std::uint64_t now = uv_hrtime();
  std::uint64_t wait_ms = target > now ? (target - now + 999'999) / 1'000'000 : 0;
  timer_purpose_ = TimerPurpose::Deadline;
  timer_due_ns_ = now + wait_ms * 1'000'000;
  uv_timer_start(&timer_, [](uv_timer_t* timer) { static_cast<Connection*>(timer->data)->on_timer(); }, wait_ms, 0);
}

void Connection::on_timer() {
  TimerPurpose purpose = timer_purpose_;
  timer_purpose_ = TimerPurpose::None;
  if (!waiter_) return;
  if (purpose == TimerPurpose::DeliverFailure) {
    std::string error = std::move(pending_error_);
    fail(error);
    return;
  }
  // Which deadline passed? A millisecond of slack for the timer's rounding.
  std::uint64_t now = uv_hrtime() + 1'000'000;
  if (now >= deadline_ns_) {
    fail("timeout");
  } else if (connecting()) {
    fail("connect timeout");
  } else if (!response_started_ && limits_.first_byte_timeout_s > 0 && sent_ns_ != 0 &&
             now >= sent_ns_ + seconds_to_ns(limits_.first_byte_timeout_s)) {
    fail("first byte timeout");
  } else if (response_started_ && limits_.idle_timeout_s > 0 &&
             now >= last_byte_ns_ + seconds_to_ns(limits_.idle_timeout_s)) {
    fail("idle timeout");
  } else {
    arm_deadline();  // woke early (the request was still being written): wait for the real one
  }
}

void Connection::fail(std::string_view error) {
  if (in_start_) {
    fail_from_loop(error);
    return;
  }
  runtime_->dns().cancel(this);
  drop_socket();
  state_ = State::Disconnected;
  response_.status = 0;
  response_.headers.clear();
  response_.header_bytes.clear();
  response_.body.clear();
  response_.content_length = 0;
  response_.error.assign(error);
  complete(false);
}

// One millisecond, not zero: libuv (1.44) runs a zero timer started inside a timer callback in
// the same pass, so a user resumed from a timer whose next request fails at once (EMFILE, a
// cached DNS failure) would start another and never let the loop poll, report or stop. The
// millisecond also paces a script that retries a failing call in a loop.
void Connection::fail_from_loop(std::string_view error) {
  pending_error_.assign(error);
  timer_purpose_ = TimerPurpose::DeliverFailure;
  uv_timer_start(&timer_, [](uv_timer_t* timer) { static_cast<Connection*>(timer->data)->on_timer(); }, 1, 0);
}

void Connection::complete(bool keep_alive, std::uint64_t now) {
  // An armed deadline stays armed for the next exchange (see arm_deadline); one that fires
  // while the connection is idle does nothing.
  if (timer_purpose_ != TimerPurpose::Deadline) {
    uv_timer_stop(&timer_);
    timer_purpose_ = TimerPurpose::None;
  }
  if (!keep_alive) drop_socket();

  if (now == 0) now = uv_hrtime();
  response_.completed_ns = now;
  response_.elapsed_ns = now - started_ns_ - response_.timings.queued_ns;
  if (response_started_) response_.timings.receive_ns = now - sent_ns_ - response_.timings.wait_ns;
  if (response_.error.empty() && response_.status >= 400) {
    response_.error = "HTTP ";
    response_.error += std::to_string(response_.status);
    std::string_view reason = reason_phrase(response_.status);
    if (!reason.empty()) {
      response_.error += ' ';
      response_.error += reason;
    }
  }
  // The caller records the sample: with catch_response the script decides its outcome first.

  // The body is the caller's to copy now; the budget is for bodies still arriving.
  give_back_budget();

  void* waiter = waiter_;
  Completion on_complete = on_complete_;
  waiter_ = nullptr;
  on_complete_ = nullptr;
  // The completion may start the next exchange on this connection, or even destroy it (the
  // memory stays until the timer's close callback, in a later phase of the loop). Only a large
  // body's buffer is touched after it: freed, so that an idle connection does not hold it.
  const bool large_body = response_.body.capacity() > BodyBudget::kFreeBytes;
  on_complete(waiter, response_);
  if (large_body && !waiter_) std::string().swap(response_.body);
}

void Connection::drop_socket() {
  if (!socket_) return;
  socket_close(socket_);
  socket_ = nullptr;
  state_ = State::Disconnected;
}

void Connection::abort() {
  give_back_budget();
  if (response_.body.capacity() > BodyBudget::kFreeBytes) std::string().swap(response_.body);
  runtime_->dns().cancel(this);
  uv_timer_stop(&timer_);
  timer_purpose_ = TimerPurpose::None;
  bool was_busy = waiter_ != nullptr;
  waiter_ = nullptr;
  on_complete_ = nullptr;
  // Half an exchange leaves the socket in an unknown state; an idle keep-alive socket is fine.
  if (was_busy || state_ != State::Connected) drop_socket();
  if (!socket_) state_ = State::Disconnected;
}

void Connection::destroy() {
  if (destroyed_) return;
  destroyed_ = true;
  abort();
  drop_socket();
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_),
           [](uv_handle_t* handle) { delete static_cast<Connection*>(handle->data); });
}

std::string Connection::decoding_failure() const {
  if (decoder_->failure() == ContentDecoder::Failure::TooLarge) return "body too large";
  return "content decoding failed (" + std::string(ContentDecoder::name(decoder_->encoding())) + ": " + decoder_->error() +
         ")";
}

// --- llhttp callbacks ----------------------------------------------------------------------

const llhttp_settings_t& Connection::parser_settings() {
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = &Connection::on_message_begin;
    s.on_header_field = &Connection::on_header_field;
    s.on_header_value = &Connection::on_header_value;
    s.on_headers_complete = &Connection::on_headers_complete;
    s.on_body = &Connection::on_body;
    s.on_message_complete = &Connection::on_message_complete;
    return s;
  }();
  return settings;
}

int Connection::on_message_begin(llhttp_t* parser) {
  auto* self = static_cast<Connection*>(parser->data);
  ResponseData& r = self->response_;
  r.status = 0;
  r.header_bytes.clear();
  r.headers.clear();
  r.body.clear();
  r.content_length = 0;
  self->last_was_value_ = false;
  self->head_from_ = nullptr;
  self->head_folded_ = false;
  self->decoding_ = false;
  return 0;
}

// Header names and values are not copied one by one as llhttp finds them: their spans are
// offsets into the head as it arrived (from the first name on), and the head's bytes are copied
// once, when the head is complete or a read ends inside it. `head_from_` is the first byte of
// the current read not copied yet: everything before it is in header_bytes, so offsets go on
// across reads.
bool Connection::note_head_span(const char* at, std::size_t length, std::uint32_t* offset) {
  if (!head_from_) head_from_ = at;
  std::size_t start = response_.header_bytes.size() + static_cast<std::size_t>(at - head_from_);
  if (start + length > kMaxHeaderBytes) {
    callback_error_ = "headers too large";
    return false;
  }
  *offset = static_cast<std::uint32_t>(start);
  head_end_ = at + length;
  return true;
}

void Connection::keep_head_bytes(const char* until) {
  response_.header_bytes.append(head_from_, static_cast<std::size_t>(until - head_from_));
  head_from_ = until;
}

int Connection::on_header_field(llhttp_t* parser, const char* at, std::size_t length) {
  auto* self = static_cast<Connection*>(parser->data);
  ResponseData& r = self->response_;
  std::uint32_t offset = 0;
  if (!self->note_head_span(at, length, &offset)) return -1;
  if (self->last_was_value_ || r.headers.empty()) {
    r.headers.push_back(HeaderSpan{offset, 0, 0, 0});
    self->last_was_value_ = false;
  }
  HeaderSpan& h = r.headers.back();
  h.name_length += static_cast<std::uint32_t>(length);
  h.value_offset = h.name_offset + h.name_length;  // where an empty value would be
  return 0;
}

int Connection::on_header_value(llhttp_t* parser, const char* at, std::size_t length) {
  auto* self = static_cast<Connection*>(parser->data);
  ResponseData& r = self->response_;
  if (r.headers.empty()) return -1;
  std::uint32_t offset = 0;
  if (!self->note_head_span(at, length, &offset)) return -1;
  HeaderSpan& h = r.headers.back();
  if (!self->last_was_value_) {
    h.value_offset = offset;
    self->last_was_value_ = true;
  } else if (offset != h.value_offset + h.value_length) {
    // A folded line (obs-fold): the value runs over the CR LF, blanked once the head is copied.
    self->head_folded_ = true;
    h.value_length = offset - h.value_offset;
  }
  h.value_length += static_cast<std::uint32_t>(length);
  return 0;
}

int Connection::on_headers_complete(llhttp_t* parser) {
  auto* self = static_cast<Connection*>(parser->data);
  if (self->head_from_) {
    self->keep_head_bytes(self->head_end_);
    self->head_from_ = nullptr;
    // RFC 9112, 5.2: a client replaces each obs-fold with spaces before using the value.
    if (self->head_folded_) {
      std::string& bytes = self->response_.header_bytes;
      for (const HeaderSpan& h : self->response_.headers)
        for (std::uint32_t i = h.value_offset; i < h.value_offset + h.value_length; ++i)
          if (bytes[i] == '\r' || bytes[i] == '\n') bytes[i] = ' ';
    }
  }
  int status = parser->status_code;
  self->response_.status = status;
  // A response to HEAD, a 204 and a 304 carry no body, whatever length they announce
  // (llhttp only knows this when there is no Content-Length).
  if (self->head_request_ || status == 204 || status == 304) return 1;
  if (!self->limits_.discard_body) {
    if (const HeaderSpan* coding = self->response_.find_header("content-encoding")) {
      // Unknown codings (br, zstd) stay as they came, as in Python's requests.
      auto encoding = ContentDecoder::parse(self->response_.header_value(*coding));
      if (encoding && *encoding != ContentDecoder::Encoding::Identity) {
        if (!self->decoder_) self->decoder_ = std::make_unique<ContentDecoder>();
        self->decoder_->begin(*encoding);
        self->decoding_ = true;
      }
    }
  }
  return 0;
}

int Connection::on_body(llhttp_t* parser, const char* at, std::size_t length) {
  auto* self = static_cast<Connection*>(parser->data);
  ResponseData& r = self->response_;
  if (self->decoding_) {
    if (self->over_budget_) {
      r.content_length += length;  // past the budget: the compressed bytes, counted
      return 0;
    }
    // res.length is the decoded size, as Locust reports len(response.content).
    if (!self->decoder_->feed(at, length, r.body, self->limits_.max_body)) {
      self->callback_error_ = self->decoding_failure();
      return -1;
    }
    r.content_length = r.body.size();
    if (r.body.capacity() > BodyBudget::kFreeBytes && !self->take_budget_for(r.body.capacity())) self->discard_over_budget();
    return 0;
  }
  r.content_length += length;
  if (self->limits_.discard_body || self->over_budget_) return 0;
  if (r.body.size() + length > self->limits_.max_body) {
    self->callback_error_ = "body too large";
    return -1;
  }
  const std::size_t wanted = r.body.size() + length;
  if (wanted > BodyBudget::kFreeBytes && wanted > r.body.capacity()) {
    // Large bodies grow a budget step at a time, so that the budget counts the memory held
    // (a doubling string would hold up to twice what it counts).
    const std::size_t capacity = (wanted + BodyBudget::kStep - 1) / BodyBudget::kStep * BodyBudget::kStep;
    if (!self->take_budget_for(capacity)) {
      self->discard_over_budget();
      return 0;
    }
    r.body.reserve(capacity);
  }
  r.body.append(at, length);
  return 0;
}

// The budget for a body about to hold `size` bytes (see BodyBudget): true when it has it or
// the request asked to keep its body whatever the budget says (its own max_body).
bool Connection::take_budget_for(std::uint64_t size) {
  const std::uint64_t needed = size - BodyBudget::kFreeBytes;
  if (needed <= budget_taken_) return true;
  const std::uint64_t more = (needed - budget_taken_ + BodyBudget::kStep - 1) / BodyBudget::kStep * BodyBudget::kStep;
  if (BodyBudget::take(more)) {
    budget_taken_ += more;
    return true;
  }
  if (!keep_body_) return false;
  return true;  // kept beyond the budget, as asked: not counted in it
}

// Past the run's budget: the rest of this body is counted, not kept, and what it held is freed.
void Connection::discard_over_budget() {
  over_budget_ = true;
  response_.body_discarded = true;
  std::string().swap(response_.body);
  give_back_budget();
  if (BodyBudget::first_overrun())
    common::log_warning(
        "Response bodies held in memory reached the budget of %llu MiB (--max-body-memory): further large bodies "
        "are counted and discarded (res.body is empty, res.body_discarded is true) unless a request sets its own "
        "max_body",
        static_cast<unsigned long long>(BodyBudget::limit() >> 20));
}

void Connection::give_back_budget() {
  if (budget_taken_ == 0) return;
  BodyBudget::give_back(budget_taken_);
  budget_taken_ = 0;
}

int Connection::on_message_complete(llhttp_t* parser) {
  auto* self = static_cast<Connection*>(parser->data);
  int status = parser->status_code;
  if (status >= 100 && status < 200 && status != 101) return 0;  // interim response: the real one follows
  if (self->decoding_ && !self->over_budget_ && !self->decoder_->finish()) {
    self->callback_error_ = self->decoding_failure();
    return -1;
  }
  self->message_complete_ = true;
  return HPE_PAUSED;
}

}  // namespace cicada::http
