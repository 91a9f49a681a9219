#pragma once
// The HTTP client of one virtual user: its base URL, its settings (timeouts, TLS, redirects),
// its cookies, and its connections — its own keep-alive connections (one per endpoint, more
// while a batch runs in parallel), or connections borrowed from a pool shared by every user
// of the thread.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/http/connection.h"
#include "runtime/http/cookie_jar.h"
#include "runtime/http/tls.h"
#include "runtime/http/url.h"

namespace cicada::http {

class HttpRuntime;

struct ClientOptions {
  ExchangeLimits limits;        // per-user defaults; requests may override each
  // Shared by every client with the same settings (the run's defaults, most of the time).
  std::shared_ptr<const TlsSettings> tls;
  bool allow_redirects = true;  // requests' default (HEAD excepted)
  int max_redirects = 30;
  bool share_connections = false;  // borrow from the thread's pool instead of owning connections
};

class Client {
 public:
  Client(HttpRuntime* runtime, std::optional<Url> base, ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  HttpRuntime* runtime() const { return runtime_; }
  const Url* base() const { return base_ ? &*base_ : nullptr; }
  ClientOptions& options() { return options_; }
  const ClientOptions& options() const { return options_; }
  CookieJar& cookies() { return cookies_; }

  // An idle connection to this endpoint, for one exchange; give it back with release().
  // Null when the user already has too many requests in flight to that endpoint.
  Connection* acquire(const Url& endpoint);
  void release(Connection* connection);

 private:
  static constexpr std::size_t kMaxConnectionsPerEndpoint = 256;

  HttpRuntime* runtime_;
  std::optional<Url> base_;
  ClientOptions options_;
  CookieJar cookies_;
  std::vector<Connection*> connections_;  // owned (unless share_connections)
};

// Connections shared by the users of one thread (ClientOptions::share_connections), by endpoint.
class ConnectionPool {
 public:
  explicit ConnectionPool(HttpRuntime* runtime) : runtime_(runtime) {}
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  Connection* acquire(const Url& endpoint);
  void release(Connection* connection);
  void close_all();

 private:
  HttpRuntime* runtime_;
  std::vector<Connection*> all_;
  std::vector<Connection*> idle_;
};

}  // namespace cicada::http
