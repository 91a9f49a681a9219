#include "runtime/target/connection.h"

#include <algorithm>
#include <utility>

#include "runtime/common/json.h"
#include "runtime/common/text.h"
#include "runtime/target/server.h"

namespace cicada::target {

// The text and JSON helpers shared with the rest of the runtime (runtime/common).
using namespace cicada::common;

namespace {

// Limits that keep one client from making the server hold unbounded memory.
constexpr size_t kMaxTargetBytes = 32 * 1024;
constexpr size_t kMaxHeaderBytes = 64 * 1024;
constexpr size_t kMaxHeaderCount = 256;
constexpr size_t kMaxKeptBodyBytes = 8 * 1024 * 1024;

// Stop taking new requests (and producing generated bodies) while this much output is unsent.
constexpr size_t kOutputHighWater = 256 * 1024;
constexpr size_t kGeneratedSlice = 64 * 1024;
constexpr size_t kMaxChunkBytes = 4096;

// Buffers grow to the largest request or response seen; beyond this, give the memory back after use.
constexpr size_t kRetainedCapacity = 1024 * 1024;

// After our last response and FIN, how long the client gets to stop sending before we close.
// Closing a socket with unread input makes the kernel send RST, which can destroy the response
// before the client has read it.
constexpr uint64_t kLingerMs = 2000;

// libuv handles and requests, and the llhttp parser, all point back through `data`.
template <typename Handle>
Connection& connection_of(Handle* handle) {
  return *static_cast<Connection*>(handle->data);
}

// Only an empty buffer: its bytes may still be waiting to be parsed or sent.
void release_if_oversized(std::string& buffer) {
  if (buffer.empty() && buffer.capacity() > kRetainedCapacity) std::string().swap(buffer);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Life cycle

Connection::Connection(Worker& worker) : worker_(worker) {
  uv_tcp_init(worker.loop(), &tcp_);
  uv_timer_init(worker.loop(), &timer_);
  tcp_.data = this;
  timer_.data = this;
  write_request_.data = this;
  shutdown_request_.data = this;
  llhttp_init(&parser_, HTTP_REQUEST, &parser_settings());
  parser_.data = this;
  headers_.reserve(16);
  worker_.link(*this);
}

void Connection::accept(Worker& worker, uv_stream_t* listener) {
  // Owned by its handles from here on; `delete` happens in on_closed.
  auto* connection = new Connection(worker);
  if (uv_accept(listener, connection->stream()) != 0) {
    connection->close();
    return;
  }
  // Small responses must leave at once, not wait for the ACK of the previous one.
  uv_tcp_nodelay(&connection->tcp_, 1);
  connection->update_reading();
}

void Connection::close() {
  if (closing_) return;
  closing_ = true;
  worker_.unlink(*this);
  // Pending write and shutdown requests get their callbacks (with UV_ECANCELED) before the
  // close callbacks, so the object is still alive for them.
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_closed);
}

void Connection::on_closed(uv_handle_t* handle) {
  Connection* connection = &connection_of(handle);
  if (--connection->open_handles_ == 0) delete connection;
}

// ---------------------------------------------------------------------------------------------
// Reading and parsing

void Connection::on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  Worker& worker = connection_of(handle).worker_;
  *buf = uv_buf_init(worker.read_buffer(), static_cast<unsigned>(worker.read_buffer_size()));
}

void Connection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  Connection& connection = connection_of(stream);
  if (nread > 0) {
    connection.handle_input(buf->base, static_cast<size_t>(nread));
  } else if (nread == UV_EOF && !connection.lingering_) {
    connection.input_ended_ = true;
    connection.pump();
  } else if (nread < 0) {
    connection.close();
  }
}

void Connection::handle_input(const char* data, size_t size) {
  if (lingering_ || no_more_requests_) return;  // nobody will answer these bytes
  if (unparsed_.empty() && ready_for_next_request()) {
    // The common case: parse straight from the read buffer, keep only what must wait.
    const size_t parsed = parse(data, size);
    if (parsed < size && !no_more_requests_ && !closing_) unparsed_.append(data + parsed, size - parsed);
  } else {
    unparsed_.append(data, size);
  }
  pump();
}

bool Connection::ready_for_next_request() const {
  return !closing_ && !no_more_requests_ && !delay_pending_ && !stall_pending_ && generated_remaining_ == 0 &&
         buffered_output() < kOutputHighWater;
}

// Feeds bytes to llhttp and answers each request as soon as it is complete. Returns how many
// bytes were consumed: fewer than `size` when an answer is still in production and the rest
// must wait.
size_t Connection::parse(const char* data, size_t size) {
  const char* cursor = data;
  const char* const end = data + size;
  while (cursor < end && ready_for_next_request()) {
    const llhttp_errno_t error = llhttp_execute(&parser_, cursor, static_cast<size_t>(end - cursor));
    if (error == HPE_OK) {
      cursor = end;
    } else if (error == HPE_PAUSED) {
      // on_message_complete pauses the parser after every request, so that the answer is
      // decided here, outside the callback, and parsing can stop right after any request.
      cursor = llhttp_get_error_pos(&parser_);
      llhttp_resume(&parser_);
    } else if (error == HPE_PAUSED_UPGRADE) {
      // Upgrades are refused (the answer says Connection: close); what follows is not HTTP/1.
      cursor = end;
      no_more_requests_ = true;
    } else {
      respond_to_parse_error();
      return size;
    }
    if (request_complete_) {
      request_complete_ = false;
      respond();
    }
  }
  return static_cast<size_t>(cursor - data);
}

void Connection::parse_unparsed_input() {
  const size_t parsed = parse(unparsed_.data(), unparsed_.size());
  if (no_more_requests_ || closing_) {
    unparsed_.clear();
  } else if (parsed == 0 && ready_for_next_request()) {
    // Cannot happen with a correct parser; guards pump() against spinning.
    respond_to_parse_error();
    unparsed_.clear();
  } else {
    unparsed_.erase(0, parsed);
  }
  release_if_oversized(unparsed_);
}

void Connection::update_reading() {
  if (closing_) return;
  const bool wanted = !input_ended_ && (lingering_ || (ready_for_next_request() && unparsed_.empty()));
  if (wanted == reading_) return;
  if (wanted) {
    if (uv_read_start(stream(), on_alloc, on_read) != 0) {
      close();
      return;
    }
  } else {
    uv_read_stop(stream());
  }
  reading_ = wanted;
}

const llhttp_settings_t& Connection::parser_settings() {
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = on_message_begin;
    s.on_url = on_url;
    s.on_header_field = on_header_field;
    s.on_header_field_complete = on_header_field_complete;
    s.on_header_value = on_header_value;
    s.on_headers_complete = on_headers_complete;
    s.on_body = on_body;
    s.on_message_complete = on_message_complete;
    return s;
  }();
  return settings;
}

int Connection::reject_request(unsigned status, const char* reason) {
  parse_error_status_ = status;
  llhttp_set_error_reason(&parser_, reason);
  return HPE_USER;
}

int Connection::on_message_begin(llhttp_t* parser) {
  Connection& c = connection_of(parser);
  c.target_.clear();
  c.request_target_ = {};
  c.header_storage_.clear();
  c.headers_.clear();
  c.in_header_name_ = false;
  c.body_.clear();
  c.release_oversized_buffers();
  c.keep_body_ = false;
  c.body_too_large_ = false;
  c.route_ = {};
  c.parse_error_status_ = 400;
  return 0;
}

int Connection::on_url(llhttp_t* parser, const char* at, size_t length) {
  Connection& c = connection_of(parser);
  if (c.target_.size() + length > kMaxTargetBytes) return c.reject_request(414, "request target too long");
  c.target_.append(at, length);
  return 0;
}

int Connection::on_header_field(llhttp_t* parser, const char* at, size_t length) {
  Connection& c = connection_of(parser);
  if (c.header_storage_.size() + length > kMaxHeaderBytes) return c.reject_request(431, "headers too large");
  if (!c.in_header_name_) {
    if (c.headers_.size() == kMaxHeaderCount) return c.reject_request(431, "too many headers");
    c.headers_.push_back({static_cast<uint32_t>(c.header_storage_.size()), 0, 0, 0});
    c.in_header_name_ = true;
  }
  // Names are stored lower-cased: HTTP names are case-insensitive and /echo reports them so.
  for (size_t i = 0; i < length; ++i) c.header_storage_ += to_lower_ascii(at[i]);
  c.headers_.back().name_length += static_cast<uint32_t>(length);
  return 0;
}

int Connection::on_header_field_complete(llhttp_t* parser) {
  Connection& c = connection_of(parser);
  c.in_header_name_ = false;
  // An empty value produces no on_header_value call, so the value starts here either way.
  if (!c.headers_.empty()) c.headers_.back().value_offset = static_cast<uint32_t>(c.header_storage_.size());
  return 0;
}

int Connection::on_header_value(llhttp_t* parser, const char* at, size_t length) {
  Connection& c = connection_of(parser);
  if (c.header_storage_.size() + length > kMaxHeaderBytes) return c.reject_request(431, "headers too large");
  if (c.headers_.empty()) return 0;
  c.header_storage_.append(at, length);
  c.headers_.back().value_length += static_cast<uint32_t>(length);
  return 0;
}

int Connection::on_headers_complete(llhttp_t* parser) {
  Connection& c = connection_of(parser);
  c.method_ = parser->method;
  c.http_1_0_ = parser->http_major == 1 && parser->http_minor == 0;
  // Upgrades (and CONNECT) are not supported: answer, then close.
  c.keep_alive_ = llhttp_should_keep_alive(parser) != 0 && parser->upgrade == 0;
  c.request_target_ = split_request_target(c.target_);
  if (Site* site = c.worker_.site()) {
    c.keep_body_ = site->reads_body(llhttp_method_name(static_cast<llhttp_method_t>(c.method_)), c.request_target_.path);
  } else {
    c.route_ = route_path(c.request_target_.path);
    c.keep_body_ = reads_request_body(c.route_.endpoint, c.method_);
  }

  // curl and others wait (a second, typically) for this before sending a large body.
  const bool has_body = (parser->flags & F_CHUNKED) != 0 || parser->content_length > 0;
  if (has_body && !c.http_1_0_) {
    const auto expect = c.request_headers().find("expect");
    if (expect && equals_ignoring_case(*expect, "100-continue")) c.out_ += "HTTP/1.1 100 Continue\r\n\r\n";
  }
  return 0;
}

int Connection::on_body(llhttp_t* parser, const char* at, size_t length) {
  Connection& c = connection_of(parser);
  // Bodies nobody looks at are read and dropped; a kept body that grows too large is dropped too
  // and answered with 413 once the request is complete.
  if (!c.keep_body_ || c.body_too_large_) return 0;
  const size_t limit = c.worker_.site() ? c.worker_.site()->max_body_bytes() : kMaxKeptBodyBytes;
  if (c.body_.size() + length > limit) {
    c.body_too_large_ = true;
    std::string().swap(c.body_);
    return 0;
  }
  c.body_.append(at, length);
  return 0;
}

int Connection::on_message_complete(llhttp_t* parser) {
  connection_of(parser).request_complete_ = true;
  return HPE_PAUSED;
}

// ---------------------------------------------------------------------------------------------
// Answers

void Connection::respond() {
  if (worker_.site()) return respond_for_site();
  if (hold_for_stall()) return;
  if (route_.endpoint == Endpoint::close) keep_alive_ = false;
  if (!keep_alive_) no_more_requests_ = true;
  head_only_ = method_ == HTTP_HEAD;
  connection_header_ = !keep_alive_ ? ConnectionHeader::close
                       : http_1_0_  ? ConnectionHeader::keep_alive
                                    : ConnectionHeader::omit;
  if (const auto allow = method_not_allowed(route_.endpoint, method_)) {
    return send_error(405, "method not allowed", *allow);
  }
  // Only bodies an endpoint reads are kept, and so can be too large.
  if (body_too_large_) return send_error(413, "request body too large");
  const std::optional<uint64_t>& number = route_.number;
  switch (route_.endpoint) {
    case Endpoint::root: return send(200, kTextPlain, "cicada target\n");
    case Endpoint::fixed_json: return send(200, kApplicationJson, route_.text);
    case Endpoint::echo: {
      scratch_.clear();
      const EchoedRequest echoed{llhttp_method_name(static_cast<llhttp_method_t>(method_)), request_target_,
                                 request_headers(), body_};
      append_echo_document(scratch_, echoed);
      return send(200, kApplicationJson, scratch_);
    }
    case Endpoint::status:
      if (!number || *number < 200 || *number > 599) return send_error(400, "status must be 200..599");
      return respond_to_status(*number);
    case Endpoint::delay:
      if (!number || *number > kMaxDelayMs) return send_error(400, "delay must be 0..60000 ms");
      return start_delay(*number);
    case Endpoint::bytes:
    case Endpoint::chunked:
      if (!number || *number > kMaxGeneratedBytes) return send_error(400, "size must be 0..67108864 bytes");
      // HTTP/1.0 has no chunked encoding: such a client gets the same bytes with a length.
      return start_generated_body(*number, route_.endpoint == Endpoint::chunked && !http_1_0_);
    case Endpoint::login: return respond_to_login();
    case Endpoint::items: return send(200, kApplicationJson, items_document());
    case Endpoint::item: return send_document_or_404(item_document(number.value_or(0)));
    case Endpoint::close: return send(200, kTextPlain, "closing\n");
    case Endpoint::validate_key: return respond_to_validate_key();
    case Endpoint::movie: return send_document_or_404(movie_document(number.value_or(0)));
    case Endpoint::movie_by_title: return respond_to_movie_title();
    case Endpoint::optimize: return send(202, kApplicationJson, optimize_accepted_document());
    case Endpoint::proxy:
    case Endpoint::proxy_failure: return respond_to_proxy();
    case Endpoint::jobs: return respond_to_jobs();
    case Endpoint::job: return respond_to_job();
    case Endpoint::admin_stats: return respond_to_admin_stats();
    case Endpoint::search: return respond_to_search();
    case Endpoint::redirect:
    case Endpoint::absolute_redirect:
      static_assert(kMaxRedirects == 100, "the message quotes the limit");
      if (!number || *number > kMaxRedirects) return send_error(400, "n must be 0..100");
      return respond_to_redirect(*number, route_.endpoint == Endpoint::absolute_redirect);
    case Endpoint::redirect_to: return respond_to_redirect_to();
    case Endpoint::redirect_loop: return send_redirect(302, "Location: /redirect-loop\r\n");
    case Endpoint::cookies: return respond_to_cookies();
    case Endpoint::set_cookies: return respond_to_set_cookies();
    case Endpoint::delete_cookies: return respond_to_delete_cookies();
    case Endpoint::gzip: return send(200, kApplicationJson, gzip_document().encoded, "Content-Encoding: gzip\r\n");
    case Endpoint::deflate:
      return send(200, kApplicationJson, deflate_document().encoded, "Content-Encoding: deflate\r\n");
    case Endpoint::corrupt_gzip: return send(200, kApplicationJson, corrupt_gzip_body(), "Content-Encoding: gzip\r\n");
    case Endpoint::basic_auth: return respond_to_basic_auth();
    case Endpoint::response_headers: return respond_to_response_headers();
    case Endpoint::not_found: return send_error(404, "not found");
  }
}

void Connection::respond_for_site() {
  if (!keep_alive_) no_more_requests_ = true;
  head_only_ = method_ == HTTP_HEAD;
  connection_header_ = !keep_alive_ ? ConnectionHeader::close
                       : http_1_0_  ? ConnectionHeader::keep_alive
                                    : ConnectionHeader::omit;
  const SiteRequest request{llhttp_method_name(static_cast<llhttp_method_t>(method_)), request_target_,
                            request_headers(), body_, body_too_large_};
  SiteAnswer answer;
  worker_.site()->answer(request, answer);
  send(answer.status, answer.content_type, answer.body, answer.header_lines);
}

void Connection::respond_to_parse_error() {
  // The stream cannot be trusted past a syntax error: answer and close.
  no_more_requests_ = true;
  keep_alive_ = false;
  head_only_ = false;
  connection_header_ = ConnectionHeader::close;
  send_error(parse_error_status_, parse_error_status_ == 400 ? "bad request" : status_text(parse_error_status_));
}

void Connection::respond_to_status(uint64_t status) {
  const auto code = static_cast<unsigned>(status);
  if (code == 204 || code == 304) return send_without_body(code);
  scratch_.clear();
  append_decimal(scratch_, code);
  scratch_ += ' ';
  scratch_ += status_text(code);
  scratch_ += '\n';
  send(code, kTextPlain, scratch_);
}

void Connection::respond_to_login() {
  if (!read_body_string_member("user")) return;
  decoded_.insert(0, "token-");
  scratch_.clear();
  json::Writer(scratch_).begin_object().field("token", decoded_).end_object();
  send(200, kApplicationJson, scratch_);
}

// Decodes the string member `name` of the JSON object in the body into decoded_. Otherwise
// answers 400 and returns false.
bool Connection::read_body_string_member(std::string_view name) {
  const json::MemberLookup lookup = json::find_string_member(body_, name, decoded_);
  if (lookup == json::MemberLookup::found) return true;
  decoded_.clear();
  switch (lookup) {
    case json::MemberLookup::missing:
      decoded_.append("missing \"").append(name).append("\"");
      break;
    case json::MemberLookup::not_a_string:
      decoded_.append("\"").append(name).append("\" must be a string");
      break;
    default:
      decoded_ = "body must be a JSON object";
  }
  send_error(400, decoded_);
  return false;
}

void Connection::respond_to_validate_key() {
  if (!read_body_string_member("api_key")) return;
  const bool valid = is_valid_api_key(decoded_);
  scratch_.clear();
  json::Writer answer(scratch_);
  answer.begin_object();
  answer.field("valid", valid);
  if (valid) answer.field("key", decoded_);
  answer.end_object();
  send(200, kApplicationJson, scratch_);
}

void Connection::respond_to_movie_title() {
  const std::optional<uint64_t>& year = route_.number;
  if (!year || *year < kMinMovieYear || *year > kMaxMovieYear) return send_error(404, "not found");
  decoded_.clear();
  append_url_decoded(decoded_, route_.text, UrlPart::path);
  scratch_.clear();
  json::Writer(scratch_).begin_object()
      .field("title", decoded_)
      .field("year", *year)
      .field("id", movie_id_for_title(decoded_, *year))
      .end_object();
  send(200, kApplicationJson, scratch_);
}

void Connection::respond_to_proxy() {
  // In the order a real gateway checks: credentials, then the rate limit, then the upstream.
  if (!request_headers().find("authorization")) {
    return send_error(401, "missing Authorization", "WWW-Authenticate: Bearer\r\n");
  }
  if (++authorized_proxy_requests_ % kProxyRateLimitEvery == 0) {
    return send_error(429, "rate limited", "Retry-After: 1\r\n");
  }
  if (route_.endpoint == Endpoint::proxy_failure) {
    const std::optional<uint64_t>& status = route_.number;
    if (!status || *status < 400 || *status > 599) return send_error(400, "status must be 400..599");
    return send_error(static_cast<unsigned>(*status), "upstream failure");
  }
  scratch_.clear();
  json::Writer(scratch_).begin_object().field("proxied", route_.text).end_object();
  send(200, kApplicationJson, scratch_);
}

void Connection::respond_to_jobs() {
  if (method_ != HTTP_POST) return send(200, kApplicationJson, jobs_document());
  if (!read_body_string_member("name")) return;
  scratch_.clear();
  json::Writer(scratch_).begin_object()
      .field("id", worker_.next_job_id())
      .field("name", decoded_)
      .field("status", "queued")
      .end_object();
  send(201, kApplicationJson, scratch_);
}

void Connection::respond_to_job() {
  // Nothing is stored, so deleting succeeds for any id, including those POST handed out.
  if (method_ == HTTP_DELETE) return route_.number ? send_without_body(204) : send_error(404, "not found");
  send_document_or_404(job_document(route_.number.value_or(0)));
}

void Connection::respond_to_admin_stats() {
  const auto token = request_headers().find("x-admin-token");
  if (!token || *token != "admin") return send_error(403, "forbidden");
  send(200, kApplicationJson, admin_stats_document());
}

void Connection::respond_to_search() {
  decoded_.clear();
  if (const auto query = find_query_value(request_target_.query, "q")) {
    append_url_decoded(decoded_, *query, UrlPart::query);
  }
  scratch_.clear();
  append_search_document(scratch_, decoded_);
  send(200, kApplicationJson, scratch_);
}

void Connection::respond_to_redirect(uint64_t hops_left, bool absolute) {
  if (hops_left == 0) return send(200, kApplicationJson, redirected_document());
  std::optional<std::string_view> host;
  if (absolute) {
    host = request_headers().find("host");
    if (!host) return send_error(400, "an absolute redirect needs a Host header");
    if (!is_host_and_port(*host)) return send_error(400, "the Host header is not a host and port");
  }
  scratch_.clear();
  append_redirect_location(scratch_, hops_left - 1, host);
  send_redirect(302, scratch_);
}

void Connection::respond_to_redirect_to() {
  scratch_.clear();
  unsigned status = 0;
  if (const InputError error = append_redirect_to_location(scratch_, status, request_target_.query)) {
    return send_error(400, *error);
  }
  send_redirect(status, scratch_);
}

void Connection::respond_to_set_cookies() {
  scratch_.clear();
  scratch_ += "Location: /cookies\r\n";
  if (const InputError error = append_set_cookie_lines(scratch_, decoded_, request_target_.query)) {
    return send_error(400, *error);
  }
  send_redirect(302, scratch_);
}

void Connection::respond_to_delete_cookies() {
  scratch_.clear();
  scratch_ += "Location: /cookies\r\n";
  if (const InputError error = append_delete_cookie_lines(scratch_, request_target_.query)) {
    return send_error(400, *error);
  }
  send_redirect(302, scratch_);
}

void Connection::respond_to_cookies() {
  scratch_.clear();
  append_cookies_document(scratch_, request_headers());
  send(200, kApplicationJson, scratch_);
}

void Connection::respond_to_basic_auth() {
  // The password is everything after the first '/', so that it may hold '/' too.
  const size_t slash = route_.text.find('/');
  if (slash == std::string_view::npos) return send_error(400, "want /basic-auth/{user}/{password}");
  decoded_.clear();
  append_url_decoded(decoded_, route_.text.substr(0, slash), UrlPart::path);
  const size_t user_length = decoded_.size();
  // Basic credentials are "user:password", split at the first ':' (RFC 7617).
  if (decoded_.find(':') != std::string::npos) return send_error(400, "the user cannot hold ':'");
  decoded_ += ':';
  append_url_decoded(decoded_, route_.text.substr(slash + 1), UrlPart::path);

  scratch_.clear();
  const auto authorization = request_headers().find("authorization");
  if (!authorization || !append_basic_credentials(scratch_, *authorization) || scratch_ != decoded_) {
    return send_error(401, "unauthorized", "WWW-Authenticate: Basic realm=\"cicada\"\r\n");
  }
  scratch_.clear();
  json::Writer(scratch_).begin_object()
      .field("authenticated", true)
      .field("user", std::string_view(decoded_).substr(0, user_length))
      .end_object();
  send(200, kApplicationJson, scratch_);
}

void Connection::respond_to_response_headers() {
  scratch_.clear();
  decoded_.clear();
  bool sets_content_type = false;
  if (const InputError error = append_added_headers(scratch_, decoded_, sets_content_type, request_target_.query)) {
    return send_error(400, *error);
  }
  send(200, sets_content_type ? std::string_view() : kApplicationJson, decoded_, scratch_);
}

void Connection::start_delay(uint64_t milliseconds) {
  delay_pending_ = true;
  delay_ms_ = milliseconds;
  uv_timer_start(&timer_, on_timer, milliseconds, 0);
}

void Connection::finish_delay() {
  delay_pending_ = false;
  scratch_.clear();
  json::Writer(scratch_).begin_object().field("delay_ms", delay_ms_).end_object();
  send(200, kApplicationJson, scratch_);
}

bool Connection::hold_for_stall() {
  StallClock* clock = worker_.stall_clock();
  if (!clock) return false;
  const uint64_t now = uv_hrtime();
  const std::optional<uint64_t> until = clock->hold_until(now);
  if (!until) return false;
  stall_pending_ = true;
  // libuv's timers count whole milliseconds: round up, so the answer never leaves inside the stall.
  uv_timer_start(&timer_, on_timer, (*until - now + 999'999) / 1'000'000, 0);
  return true;
}

void Connection::on_timer(uv_timer_t* timer) {
  Connection& connection = connection_of(timer);
  if (connection.lingering_) {
    connection.close();
  } else if (connection.stall_pending_) {
    connection.stall_pending_ = false;
    connection.respond();
    connection.pump();
  } else if (connection.delay_pending_) {
    connection.finish_delay();
    connection.pump();
  }
}

void Connection::start_generated_body(uint64_t size, bool chunked) {
  append_response_head(out_, {200, kOctetStream, chunked ? Framing::chunked : Framing::content_length, size,
                              connection_header_, {}});
  if (head_only_) return;
  // Produced in slices as the socket drains (pump), so 64 MiB never sits in memory.
  generated_remaining_ = size;
  generated_offset_ = 0;
  generated_chunked_ = chunked;
  if (chunked && size == 0) out_ += "0\r\n\r\n";
}

void Connection::produce_generated_slice() {
  size_t budget = kGeneratedSlice;
  while (generated_remaining_ > 0 && budget > 0) {
    const size_t count = static_cast<size_t>(
        std::min<uint64_t>(generated_remaining_, generated_chunked_ ? kMaxChunkBytes : budget));
    if (generated_chunked_) {
      append_hex(out_, count);
      out_ += "\r\n";
    }
    append_generated_bytes(out_, generated_offset_, count);
    if (generated_chunked_) out_ += "\r\n";
    generated_offset_ += count;
    generated_remaining_ -= count;
    budget -= std::min(budget, count);
  }
  if (generated_chunked_ && generated_remaining_ == 0) out_ += "0\r\n\r\n";
}

void Connection::send(unsigned status, std::string_view content_type, std::string_view body,
                      std::string_view extra_header_lines) {
  append_response_head(out_, {status, content_type, Framing::content_length, body.size(), connection_header_,
                              extra_header_lines});
  if (!head_only_) out_ += body;
}

void Connection::send_error(unsigned status, std::string_view message, std::string_view extra_header_lines) {
  // `message` must not point into scratch_, which is rebuilt here.
  scratch_.clear();
  json::Writer(scratch_).begin_object().field("error", message).end_object();
  send(status, kApplicationJson, scratch_, extra_header_lines);
}

void Connection::send_without_body(unsigned status) {
  // 204 and 304 must not announce a length, not even 0.
  append_response_head(out_, {status, {}, Framing::none, 0, connection_header_, {}});
}

void Connection::send_redirect(unsigned status, std::string_view header_lines) {
  send(status, {}, {}, header_lines);
}

void Connection::send_document_or_404(std::string_view document) {
  if (document.empty()) return send_error(404, "not found");
  send(200, kApplicationJson, document);
}

// ---------------------------------------------------------------------------------------------
// Writing

// Drives the connection forward after any event until it has to wait for one: produces
// generated bodies, parses held-back requests, writes output, then decides whether to read,
// close, or wait.
void Connection::pump() {
  while (!closing_) {
    if (generated_remaining_ > 0 && buffered_output() < kOutputHighWater) {
      produce_generated_slice();
    } else if (!unparsed_.empty() && ready_for_next_request()) {
      parse_unparsed_input();
    } else if (!out_.empty() && !write_in_flight_) {
      flush_output();
    } else {
      break;
    }
  }
  if (closing_) return;
  if (idle()) {
    if (input_ended_) return close();  // everything the client sent is answered
    if (no_more_requests_) return begin_shutdown();
  }
  update_reading();
}

bool Connection::idle() const {
  return !delay_pending_ && !stall_pending_ && generated_remaining_ == 0 && out_.empty() && !write_in_flight_;
}

void Connection::flush_output() {
  // Most responses fit in the socket buffer: one uv_try_write and no request object, no copy.
  uv_buf_t buf = uv_buf_init(out_.data(), static_cast<unsigned>(out_.size()));
  int written = uv_try_write(stream(), &buf, 1);
  if (written == UV_EAGAIN) {
    written = 0;
  } else if (written < 0) {
    close();
    return;
  }
  if (static_cast<size_t>(written) == out_.size()) {
    out_.clear();
    return;
  }
  // The rest goes through uv_write, from a buffer nobody touches until it completes; new
  // responses accumulate meanwhile in the other buffer.
  std::swap(out_, in_flight_);
  out_.clear();
  in_flight_offset_ = static_cast<size_t>(written);
  buf = uv_buf_init(in_flight_.data() + in_flight_offset_, static_cast<unsigned>(in_flight_.size() - in_flight_offset_));
  if (uv_write(&write_request_, stream(), &buf, 1, on_write) != 0) {
    close();
    return;
  }
  write_in_flight_ = true;
}

void Connection::on_write(uv_write_t* request, int status) {
  Connection& connection = connection_of(request);
  connection.write_in_flight_ = false;
  connection.in_flight_.clear();
  connection.in_flight_offset_ = 0;
  release_if_oversized(connection.in_flight_);
  if (connection.closing_) return;
  if (status < 0) return connection.close();
  connection.pump();
}

void Connection::begin_shutdown() {
  if (shutdown_started_) return;
  shutdown_started_ = true;
  if (reading_) {
    uv_read_stop(stream());
    reading_ = false;
  }
  if (uv_shutdown(&shutdown_request_, stream(), on_shutdown) != 0) close();
}

void Connection::on_shutdown(uv_shutdown_t* request, int status) {
  Connection& connection = connection_of(request);
  if (connection.closing_) return;
  if (status < 0) return connection.close();
  connection.lingering_ = true;
  uv_timer_start(&connection.timer_, on_timer, kLingerMs, 0);
  connection.update_reading();
}

void Connection::release_oversized_buffers() {
  // These two only ever hold the answer in production, which is in out_ by the next request.
  scratch_.clear();
  decoded_.clear();
  release_if_oversized(body_);
  release_if_oversized(scratch_);
  release_if_oversized(decoded_);
  release_if_oversized(out_);
}

}  // namespace cicada::target
