#pragma once
// The seam between the socket and HTTP, like wrk's `struct sock`: plain TCP passes bytes
// through; TLS runs its handshake once TCP is up and encrypts/decrypts everything after.
#include <cstddef>
#include <string_view>

namespace cicada::http {

class Connection;
struct Socket;

class Transport {
 public:
  virtual ~Transport() = default;
  // TCP is up; calls connection.on_transport_ready() once requests can flow, or
  // connection.on_transport_failed(reason).
  virtual void on_connected(Connection& connection, Socket& socket) = 0;
  // Returns 0 or a libuv error code.
  virtual int write(Socket& socket, std::string_view bytes) = 0;
  // Raw bytes from the socket; application bytes go to connection.on_plaintext().
  virtual void on_read(Connection& connection, Socket& socket, const char* data, std::size_t length) = 0;
};

Transport& plain_transport();
Transport& tls_transport();

}  // namespace cicada::http
