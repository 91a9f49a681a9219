#include "runtime/http/socket.h"

#include <openssl/ssl.h>

#include "runtime/http/connection.h"

namespace cicada::http {

namespace {

void start_write(Socket& socket);

void on_write_done(uv_write_t* req, int status) {
  auto* socket = static_cast<Socket*>(req->data);
  socket->writing = false;
  if (status == 0) socket->bytes_taken += socket->in_flight.size();
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

// Returns the bytes the kernel took at once, or a libuv error; the rest goes out with uv_write.
// `bytes` may be `socket.queued` itself.
int try_write_then_queue(Socket& socket, std::string_view bytes) {
  auto* stream = reinterpret_cast<uv_stream_t*>(&socket.tcp);
  uv_buf_t buf = uv_buf_init(const_cast<char*>(bytes.data()), static_cast<unsigned>(bytes.size()));
  int written = uv_try_write(stream, &buf, 1);
  if (written > 0) socket.bytes_taken += static_cast<std::uint64_t>(written);
  if (written == static_cast<int>(bytes.size())) return written;
  if (written < 0 && written != UV_EAGAIN) return written;
  if (written < 0) written = 0;
  // The kernel took only part of it: libuv writes the rest when the socket is writable.
  socket.queued.assign(bytes.substr(static_cast<std::size_t>(written)));
  start_write(socket);
  return written;
}

}  // namespace

Socket::~Socket() {
  if (!ssl) return;
  // Connections end without close_notify (keep-alive sockets are simply closed). Without this,
  // OpenSSL would mark the session unresumable as if the connection had been cut.
  SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  SSL_free(ssl);
}

WriteBatch::WriteBatch(uv_loop_t* loop) {
  uv_prepare_init(loop, &before_poll_);
  uv_check_init(loop, &after_poll_);
  before_poll_.data = this;
  after_poll_.data = this;
  uv_prepare_start(&before_poll_, [](uv_prepare_t* handle) { static_cast<WriteBatch*>(handle->data)->flush(); });
  uv_check_start(&after_poll_, [](uv_check_t* handle) { static_cast<WriteBatch*>(handle->data)->flush(); });
  // They must not keep the loop running on their own.
  uv_unref(reinterpret_cast<uv_handle_t*>(&before_poll_));
  uv_unref(reinterpret_cast<uv_handle_t*>(&after_poll_));
}

void WriteBatch::add(Socket* socket) { sockets_.push_back(socket); }

void WriteBatch::forget(Socket* socket) {
  for (std::size_t i = 0; i < sockets_.size(); ++i) {
    if (sockets_[i] == socket) {
      sockets_[i] = sockets_.back();
      sockets_.pop_back();
      return;
    }
  }
  // Closed while its round is being flushed: flush() skips sockets without an owner.
}

void WriteBatch::close() {
  if (closed_) return;
  closed_ = true;
  for (Socket* socket : sockets_) socket->batched = false;
  sockets_.clear();
  // The handles live inside this object: it must outlive the close callbacks, which run
  // within this loop iteration's close phase (HttpRuntime is freed after the loop ends).
  uv_close(reinterpret_cast<uv_handle_t*>(&before_poll_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&after_poll_), nullptr);
}

void WriteBatch::flush() {
  if (sockets_.empty()) return;
  // Writing may fail a connection, whose owner may then drop (close) other sockets: go
  // through a copy, and skip the ones that lost their owner on the way.
  flushing_.swap(sockets_);
  // One clock read between two writes: the end of one socket's write is the start of the next's.
  std::uint64_t now = uv_hrtime();
  for (Socket* socket : flushing_) {
    socket->batched = false;
    if (!socket->owner) continue;
    socket->owner->on_batch_write(now);
    const std::size_t size = socket->queued.size();
    const int written = try_write_then_queue(*socket, socket->queued);
    now = uv_hrtime();
    if (written < 0) {
      socket->queued.clear();
      if (socket->owner) socket->owner->on_write_failed(written);
      now = uv_hrtime();  // the failure may have taken a while (a retry on a new connection)
    } else if (static_cast<std::size_t>(written) == size) {
      socket->queued.clear();  // keeps its capacity for the next request
      if (socket->owner) socket->owner->on_write_drained(now);
    }
    // Otherwise the rest is with uv_write, or its failure was reported.
  }
  flushing_.clear();
}

int socket_send(Socket& socket, std::string_view bytes) {
  if (bytes.empty()) return 0;
  if (socket.writing || socket.batched) {
    socket.queued.append(bytes);
    return 0;
  }
  if (socket.batch) {
    socket.queued.assign(bytes);
    socket.batched = true;
    socket.batch->add(&socket);
    return 0;
  }
  int written = try_write_then_queue(socket, bytes);
  return written < 0 ? written : 0;
}

void socket_close(Socket* socket) {
  if (socket->batched && socket->batch) socket->batch->forget(socket);
  socket->batched = false;
  socket->owner = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&socket->tcp),
           [](uv_handle_t* handle) { delete static_cast<Socket*>(handle->data); });
}

}  // namespace cicada::http
