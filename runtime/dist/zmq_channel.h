#pragma once
// ZeroMQ sockets driven by a libuv loop: Locust's worker side (a DEALER) and master side (a
// ROUTER). ZeroMQ's notification descriptor is polled by libuv, so the worker threads never
// see it and no thread is added. That descriptor is edge-triggered: after every send and every
// wake-up the socket's events are read again and everything pending is received, or a message
// could wait for ever.
#include <uv.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

namespace cicada::dist {

class ZmqLoopSocket {
 public:
  ZmqLoopSocket(const ZmqLoopSocket&) = delete;
  ZmqLoopSocket& operator=(const ZmqLoopSocket&) = delete;
  virtual ~ZmqLoopSocket();

  // Stops polling and closes the socket (pending outgoing messages get `linger_ms` to leave).
  void close(int linger_ms = 0);

 protected:
  ZmqLoopSocket(uv_loop_t* loop, zmq::socket_type type);
  // Starts polling once the socket is bound or connected.
  void start_polling();
  // Queues one message of these frames without blocking; false when it cannot be queued now.
  bool send_frames(const std::vector<std::string_view>& frames);
  // One whole message, every frame of it.
  virtual void on_frames(std::vector<std::string>& frames) = 0;

  zmq::context_t context_;
  zmq::socket_t socket_;
  bool open_ = false;

 private:
  static void on_poll(uv_poll_t* handle, int status, int events);
  static void on_check(uv_check_t* handle);
  void drain();

  uv_loop_t* loop_;
  uv_poll_t poll_{};
  uv_check_t check_{};  // drains after a send, whose edge ZeroMQ may not signal again
};

// Locust's worker side.
class ZmqDealer final : public ZmqLoopSocket {
 public:
  using OnMessage = std::function<void(std::string bytes)>;

  ZmqDealer(uv_loop_t* loop, OnMessage on_message);

  // Connects to "tcp://host:port" as `identity` (Locust's `<hostname>_<hex>`). ZeroMQ connects
  // (and reconnects) in the background: messages queue until the peer is there.
  bool connect(const std::string& endpoint, const std::string& identity, std::string* error);
  bool send(std::string_view bytes) { return send_frames({bytes}); }

 private:
  void on_frames(std::vector<std::string>& frames) override;
  OnMessage on_message_;
};

// Locust's master side: every message arrives as [the worker's identity, payload], and goes to
// one worker the same way.
class ZmqRouter final : public ZmqLoopSocket {
 public:
  using OnMessage = std::function<void(std::string identity, std::string bytes)>;

  ZmqRouter(uv_loop_t* loop, OnMessage on_message);

  // Binds "tcp://host:port" ("*" for every address).
  bool bind(const std::string& endpoint, std::string* error);
  // False when the worker is unknown to ZeroMQ (gone) or its queue is full.
  bool send(std::string_view identity, std::string_view bytes);

 private:
  void on_frames(std::vector<std::string>& frames) override;
  OnMessage on_message_;
};

}  // namespace cicada::dist
