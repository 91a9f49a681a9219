#include "runtime/dist/zmq_channel.h"

namespace cicada::dist {

ZmqLoopSocket::ZmqLoopSocket(uv_loop_t* loop, zmq::socket_type type) : context_(1), socket_(context_, type), loop_(loop) {}

ZmqLoopSocket::~ZmqLoopSocket() { close(); }

void ZmqLoopSocket::start_polling() {
  const int fd = socket_.get(zmq::sockopt::fd);
  uv_poll_init(loop_, &poll_, fd);
  poll_.data = this;
  uv_poll_start(&poll_, UV_READABLE, on_poll);
  uv_check_init(loop_, &check_);
  check_.data = this;
  uv_check_start(&check_, on_check);
  // The check runs after every turn of the loop but costs nothing unless asked: unref'd, it
  // does not keep the loop alive.
  uv_unref(reinterpret_cast<uv_handle_t*>(&check_));
  open_ = true;
}

bool ZmqLoopSocket::send_frames(const std::vector<std::string_view>& frames) {
  if (!open_) return false;
  try {
    for (std::size_t i = 0; i < frames.size(); ++i) {
      const auto flags = i + 1 < frames.size() ? zmq::send_flags::dontwait | zmq::send_flags::sndmore
                                               : zmq::send_flags::dontwait;
      if (!socket_.send(zmq::buffer(frames[i].data(), frames[i].size()), flags).has_value()) return false;
    }
    return true;
  } catch (const zmq::error_t&) {
    return false;
  }
}

void ZmqLoopSocket::on_poll(uv_poll_t* handle, int, int) { static_cast<ZmqLoopSocket*>(handle->data)->drain(); }

void ZmqLoopSocket::on_check(uv_check_t* handle) { static_cast<ZmqLoopSocket*>(handle->data)->drain(); }

void ZmqLoopSocket::drain() {
  std::vector<std::string> frames;
  while (open_) {
    int events = 0;
    try {
      events = socket_.get(zmq::sockopt::events);
    } catch (const zmq::error_t&) {
      return;
    }
    if ((events & ZMQ_POLLIN) == 0) return;
    frames.clear();
    try {
      while (true) {
        zmq::message_t message;
        if (!socket_.recv(message, zmq::recv_flags::dontwait)) return;
        frames.emplace_back(static_cast<const char*>(message.data()), message.size());
        if (!message.more()) break;
      }
    } catch (const zmq::error_t&) {
      return;
    }
    on_frames(frames);
  }
}

void ZmqLoopSocket::close(int linger_ms) {
  if (!open_) return;
  open_ = false;
  uv_poll_stop(&poll_);
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&check_), nullptr);
  socket_.set(zmq::sockopt::linger, linger_ms);
  socket_.close();
}

ZmqDealer::ZmqDealer(uv_loop_t* loop, OnMessage on_message)
    : ZmqLoopSocket(loop, zmq::socket_type::dealer), on_message_(std::move(on_message)) {}

bool ZmqDealer::connect(const std::string& endpoint, const std::string& identity, std::string* error) {
  try {
    socket_.set(zmq::sockopt::routing_id, identity);
    // As Locust's sockets: TCP keepalive, a probe after 30 s idle.
    socket_.set(zmq::sockopt::tcp_keepalive, 1);
    socket_.set(zmq::sockopt::tcp_keepalive_idle, 30);
    socket_.set(zmq::sockopt::maxmsgsize, std::int64_t{64} << 20);  // as the master's
    socket_.connect(endpoint);
  } catch (const zmq::error_t& e) {
    *error = std::string("cannot connect to ") + endpoint + ": " + e.what();
    return false;
  }
  start_polling();
  return true;
}

void ZmqDealer::on_frames(std::vector<std::string>& frames) {
  // A DEALER hears single-frame messages from a ROUTER; anything longer is not Locust's.
  if (frames.size() == 1) on_message_(std::move(frames[0]));
}

ZmqRouter::ZmqRouter(uv_loop_t* loop, OnMessage on_message)
    : ZmqLoopSocket(loop, zmq::socket_type::router), on_message_(std::move(on_message)) {}

bool ZmqRouter::bind(const std::string& endpoint, std::string* error) {
  try {
    socket_.set(zmq::sockopt::tcp_keepalive, 1);
    socket_.set(zmq::sockopt::tcp_keepalive_idle, 30);
    // A message for a worker that is gone fails at once instead of vanishing.
    socket_.set(zmq::sockopt::router_mandatory, 1);
    // No worker's message may exceed this (a garbage sender cannot make the master allocate
    // without bound); a real report with thousands of entries is far below it.
    socket_.set(zmq::sockopt::maxmsgsize, std::int64_t{64} << 20);
    socket_.bind(endpoint);
  } catch (const zmq::error_t& e) {
    *error = std::string("cannot listen on ") + endpoint + ": " + e.what();
    return false;
  }
  start_polling();
  return true;
}

bool ZmqRouter::send(std::string_view identity, std::string_view bytes) { return send_frames({identity, bytes}); }

void ZmqRouter::on_frames(std::vector<std::string>& frames) {
  // [identity, payload] from a DEALER; a REQ-style peer would add an empty delimiter frame.
  if (frames.size() == 2) {
    on_message_(std::move(frames[0]), std::move(frames[1]));
  } else if (frames.size() == 3 && frames[1].empty()) {
    on_message_(std::move(frames[0]), std::move(frames[2]));
  } else if (!frames.empty()) {
    on_message_(std::move(frames[0]), std::string());
  }
}

}  // namespace cicada::dist
