#include "runtime/http/client.h"

namespace cicada::http {

Client::~Client() {
  for (Connection* connection : connections_) connection->destroy();
}

Connection* Client::connection_for(const Url& endpoint) {
  for (Connection* connection : connections_) {
    const Url& known = connection->endpoint();
    if (known.port == endpoint.port && known.host == endpoint.host && known.scheme == endpoint.scheme) return connection;
  }
  connections_.push_back(new Connection(runtime_, endpoint));
  return connections_.back();
}

}  // namespace cicada::http
