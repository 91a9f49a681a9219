#pragma once
// A ZeroMQ DEALER socket (Locust's worker side) driven by a libuv loop: ZeroMQ's notification
// descriptor is polled by libuv, so the worker threads never see it and no thread is added.
// ZeroMQ's descriptor is edge-triggered: after every send and every wake-up the socket's
// events are read again and everything pending is received, or a message could wait forever.
#include <uv.h>

#include <functional>
#include <string>
#include <string_view>
#include <zmq.hpp>

namespace cicada::dist {

class ZmqDealer {
 public:
  using OnMessage = std::function<void(std::string bytes)>;

  ZmqDealer(uv_loop_t* loop, OnMessage on_message);
  ~ZmqDealer();
  ZmqDealer(const ZmqDealer&) = delete;
  ZmqDealer& operator=(const ZmqDealer&) = delete;

  // Connects to "tcp://host:port" as `identity` (Locust's `<hostname>_<hex>`). ZeroMQ connects
  // (and reconnects) in the background: messages queue until the peer is there.
  bool connect(const std::string& endpoint, const std::string& identity, std::string* error);
  // Queues one message without blocking; false when it cannot be queued now.
  bool send(std::string_view bytes);
  // Stops polling and closes the socket (pending outgoing messages get `linger_ms` to leave).
  void close(int linger_ms = 0);

 private:
  static void on_poll(uv_poll_t* handle, int status, int events);
  static void on_check(uv_check_t* handle);
  void drain();

  uv_loop_t* loop_;
  OnMessage on_message_;
  zmq::context_t context_;
  zmq::socket_t socket_;
  uv_poll_t poll_{};
  uv_check_t check_{};  // drains after a send, whose edge ZeroMQ may not signal again
  bool open_ = false;
};

}  // namespace cicada::dist
