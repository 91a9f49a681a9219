#include "runtime/http/request.h"

#include <strings.h>
#include <uv.h>

#include <algorithm>
#include <ctime>

#include "runtime/http/client.h"
#include "runtime/http/http_runtime.h"

namespace cicada::http {

namespace {

std::string_view path_only(std::string_view target) { return target.substr(0, target.find('?')); }

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

void Request::prepare(const Client& client, std::string_view new_method) {
  if (method != new_method) method.assign(new_method);
  if (original_method != new_method) original_method.assign(new_method);
  headers.clear();
  extra_cookies.clear();
  body.clear();
  content_type.clear();
  const ClientOptions& defaults = client.options();
  limits = defaults.limits;
  own_tls = false;
  allow_redirects = defaults.allow_redirects && new_method != "HEAD";
  redirects_left = defaults.max_redirects;
  history_.clear();
  timings_ = Timings{};
}

bool Request::start(Client* client, std::uint64_t started_ns, void* owner, Completion on_complete) {
  client_ = client;
  owner_ = owner;
  on_complete_ = on_complete;
  started_ns_ = started_ns;
  return send_hop();
}

void Request::abort() {
  if (connection_) {
    connection_->abort();
    client_->release(connection_);
    connection_ = nullptr;
  }
}

bool Request::send_hop() {
  Connection* connection = client_->acquire(url);
  if (!connection) return false;
  connection_ = connection;
  url_text_.assign(connection->origin()).append(url.path);

  // The jar's cookies for this hop (its host and path), then the request's own.
  thread_local std::string cookie;
  cookie.clear();
  if (client_->cookies().size() != 0)
    client_->cookies().header_for(url.scheme, url.host, path_only(url.path), std::time(nullptr), cookie);
  if (!extra_cookies.empty()) {
    if (!cookie.empty()) cookie.append("; ");
    cookie.append(extra_cookies);
  }

  ComposeInput input;
  input.method = method;
  input.target = url.path;
  input.host_header = connection->host_header();
  input.user_agent = client_->runtime()->defaults().user_agent;
  input.cookie = cookie;
  input.body = body;
  input.content_type = content_type;
  input.accept_encoding = true;
  compose_request(connection->request_bytes(), input, headers);

  Connection::Exchange exchange;
  exchange.method = method;
  exchange.limits = limits;
  if (!history_.empty() && limits.timeout_s > 0) {
    // The total deadline spans every redirect: each hop gets what is left of it.
    const double spent = static_cast<double>(uv_hrtime() - started_ns_) / 1e9;
    exchange.limits.timeout_s = std::max(0.001, limits.timeout_s - spent);
  }
  exchange.tls = own_tls ? &tls : client_->options().tls.get();
  if (history_.empty()) exchange.started_ns = started_ns_;
  exchange.waiter = this;
  exchange.on_complete = &Request::on_exchange_done;
  connection->start(exchange);
  return true;
}

bool Request::follow_redirect(const ResponseData& response, const char** error) {
  const int status = response.status;
  if (!allow_redirects || !is_redirect(status)) return false;
  const HeaderSpan* location = response.find_header("location");
  if (!location) return false;
  if (redirects_left <= 0) {
    *error = "too many redirects";
    return false;
  }
  std::string problem;
  auto next = resolve_reference(url, response.header_value(*location), &problem);
  if (!next || !encode_request_target(next->path)) {
    *error = "bad redirect";
    return false;
  }
  --redirects_left;
  history_.emplace_back(status, url_text_);
  // 303 always, and 301/302 after a POST (as browsers and requests do), become a GET without body.
  if ((status == 303 && method != "HEAD") || ((status == 301 || status == 302) && method == "POST")) {
    method = "GET";
    body.clear();
    content_type.clear();
    headers.remove("content-type");
    headers.remove("content-length");
  }
  // Credentials stay with their origin (scheme, host and port, as curl and python-requests
  // decide): the Authorization header and the cookies given with the request, per request or
  // as a Cookie header, are not sent to another one. The jar's cookies follow their own scope.
  const bool same_origin = next->host == url.host && next->port == url.port && next->scheme == url.scheme;
  if (!same_origin) {
    headers.remove("authorization");
    headers.remove("cookie");
    extra_cookies.clear();
  }
  url = std::move(*next);
  return send_hop();
}

void Request::on_exchange_done(void* waiter, ResponseData& response) {
  auto* request = static_cast<Request*>(waiter);
  request->client_->release(request->connection_);
  request->connection_ = nullptr;
  // Every hop's Set-Cookie lines go to the jar, one at a time (Expires dates hold commas).
  for (const HeaderSpan& header : response.headers) {
    const std::string_view name = response.header_name(header);
    if (name.size() == 10 && (name[0] | 0x20) == 's' && strncasecmp(name.data(), "set-cookie", 10) == 0)
      request->client_->cookies().store(response.header_value(header), request->url.scheme, request->url.host,
                                        path_only(request->url.path), std::time(nullptr));
  }
  Timings& total = request->timings_;
  const Timings& hop = response.timings;
  total.dns_ns += hop.dns_ns;
  total.connect_ns += hop.connect_ns;
  total.tls_ns += hop.tls_ns;
  total.send_ns += hop.send_ns;
  total.wait_ns += hop.wait_ns;
  total.receive_ns += hop.receive_ns;
  total.queued_ns += hop.queued_ns;
  const char* redirect_error = nullptr;
  // The common case, an answer that is no redirect, decided here without a call.
  if (response.error.empty() && request->allow_redirects && is_redirect(response.status) &&
      request->follow_redirect(response, &redirect_error))
    return;
  request->on_complete_(request->owner_, *request, response, redirect_error ? redirect_error : response.error);
}

}  // namespace cicada::http
