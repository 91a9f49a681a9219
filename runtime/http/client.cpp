#include "runtime/http/client.h"

#include <algorithm>

#include "runtime/http/http_runtime.h"

namespace cicada::http {

namespace {

bool same_endpoint(const Url& a, const Url& b) { return a.port == b.port && a.host == b.host && a.scheme == b.scheme; }

}  // namespace

Client::Client(HttpRuntime* runtime, std::optional<Url> base, ClientOptions options)
    : runtime_(runtime), base_(std::move(base)), options_(std::move(options)) {}

Client::~Client() {
  for (Connection* connection : connections_) connection->destroy();
}

Connection* Client::acquire(const Url& endpoint) {
  if (options_.share_connections) return runtime_->pool().acquire(endpoint);
  std::size_t to_endpoint = 0;
  for (Connection* connection : connections_) {
    if (!same_endpoint(connection->endpoint(), endpoint)) continue;
    if (!connection->busy()) return connection;
    ++to_endpoint;
  }
  if (to_endpoint >= kMaxConnectionsPerEndpoint) return nullptr;
  connections_.push_back(new Connection(runtime_, endpoint));
  return connections_.back();
}

void Client::release(Connection* connection) {
  if (options_.share_connections) runtime_->pool().release(connection);
}

ConnectionPool::~ConnectionPool() { close_all(); }

Connection* ConnectionPool::acquire(const Url& endpoint) {
  for (auto it = idle_.rbegin(); it != idle_.rend(); ++it) {
    if (!same_endpoint((*it)->endpoint(), endpoint)) continue;
    Connection* connection = *it;
    idle_.erase(std::next(it).base());
    return connection;
  }
  all_.push_back(new Connection(runtime_, endpoint));
  return all_.back();
}

void ConnectionPool::release(Connection* connection) { idle_.push_back(connection); }

void ConnectionPool::close_all() {
  for (Connection* connection : all_) connection->destroy();
  all_.clear();
  idle_.clear();
}

}  // namespace cicada::http
