#include "runtime/http/socket.h"

#include <openssl/ssl.h>

#include "runtime/http/connection.h"

namespace cicada::http {

namespace {

void start_write(Socket& socket);

void on_write_done(uv_write_t* req, int status) {
  auto* socket = static_cast<Socket*>(req->data);
  socket->writing = false;
  socket->in_flight.clear();
  if (status < 0) {
    socket->queued.clear();
    if (socket->owner) socket->owner->on_write_failed(status);
    return;
  }
  if (!socket->queued.empty()) {
    start_write(*socket);
  } else if (socket->owner) {
    socket->owner->on_write_drained();
  }
}

void start_write(Socket& socket) {
  socket.in_flight.swap(socket.queued);
  socket.queued.clear();
  socket.writing = true;
  socket.write_req.data = &socket;
  uv_buf_t buf = uv_buf_init(socket.in_flight.data(), static_cast<unsigned>(socket.in_flight.size()));
  int rc = uv_write(&socket.write_req, reinterpret_cast<uv_stream_t*>(&socket.tcp), &buf, 1, on_write_done);
  if (rc < 0) {
    socket.writing = false;
    socket.in_flight.clear();
    if (socket.owner) socket.owner->on_write_failed(rc);
  }
}

}  // namespace

Socket::~Socket() {
  if (!ssl) return;
  // Connections end without close_notify (keep-alive sockets are simply closed). Without this,
  // OpenSSL would mark the session unresumable as if the connection had been cut.
  SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  SSL_free(ssl);
}

int socket_send(Socket& socket, std::string_view bytes) {
  if (bytes.empty()) return 0;
  if (socket.writing) {
    socket.queued.append(bytes);
    return 0;
  }
  auto* stream = reinterpret_cast<uv_stream_t*>(&socket.tcp);
  uv_buf_t buf = uv_buf_init(const_cast<char*>(bytes.data()), static_cast<unsigned>(bytes.size()));
  int written = uv_try_write(stream, &buf, 1);
  if (written == static_cast<int>(bytes.size())) return 0;
  if (written < 0 && written != UV_EAGAIN) return written;
  if (written < 0) written = 0;
  // The kernel took only part of it: libuv writes the rest when the socket is writable.
  socket.queued.assign(bytes.substr(static_cast<std::size_t>(written)));
  start_write(socket);
  return 0;
}

void socket_close(Socket* socket) {
  socket->owner = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&socket->tcp),
           [](uv_handle_t* handle) { delete static_cast<Socket*>(handle->data); });
}

}  // namespace cicada::http
