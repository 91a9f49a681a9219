#pragma once
// The HTTP client of one virtual user: a base URL and a keep-alive connection per endpoint.
#include <optional>
#include <string>
#include <vector>

#include "runtime/http/connection.h"
#include "runtime/http/url.h"

namespace cicada::http {

class HttpRuntime;

class Client {
 public:
  Client(HttpRuntime* runtime, std::optional<Url> base) : runtime_(runtime), base_(std::move(base)) {}
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  HttpRuntime* runtime() const { return runtime_; }
  const Url* base() const { return base_ ? &*base_ : nullptr; }
  // The connection for this endpoint (scheme, host, port), created on first use.
  Connection* connection_for(const Url& endpoint);

 private:
  HttpRuntime* runtime_;
  std::optional<Url> base_;
  std::vector<Connection*> connections_;
};

}  // namespace cicada::http
