#include "runtime/dist/zmq_channel.h"

namespace cicada::dist {

ZmqDealer::ZmqDealer(uv_loop_t* loop, OnMessage on_message)
    : loop_(loop), on_message_(std::move(on_message)), context_(1), socket_(context_, zmq::socket_type::dealer) {}

ZmqDealer::~ZmqDealer() { close(); }

bool ZmqDealer::connect(const std::string& endpoint, const std::string& identity, std::string* error) {
  try {
    socket_.set(zmq::sockopt::routing_id, identity);
    // As Locust's sockets: TCP keepalive, a probe after 30 s idle.
    socket_.set(zmq::sockopt::tcp_keepalive, 1);
    socket_.set(zmq::sockopt::tcp_keepalive_idle, 30);
    socket_.connect(endpoint);
    const int fd = socket_.get(zmq::sockopt::fd);
    uv_poll_init(loop_, &poll_, fd);
    poll_.data = this;
    uv_poll_start(&poll_, UV_READABLE, on_poll);
    uv_check_init(loop_, &check_);
    check_.data = this;
    uv_check_start(&check_, on_check);
    // The check runs after every turn of the loop but costs nothing unless asked: unref'd,
    // it does not keep the loop alive.
    uv_unref(reinterpret_cast<uv_handle_t*>(&check_));
    open_ = true;
    return true;
  } catch (const zmq::error_t& e) {
    *error = std::string("cannot connect to ") + endpoint + ": " + e.what();
    return false;
  }
}

bool ZmqDealer::send(std::string_view bytes) {
  if (!open_) return false;
  try {
    const auto sent = socket_.send(zmq::buffer(bytes.data(), bytes.size()), zmq::send_flags::dontwait);
    return sent.has_value();
  } catch (const zmq::error_t&) {
    return false;
  }
}

void ZmqDealer::on_poll(uv_poll_t* handle, int, int) { static_cast<ZmqDealer*>(handle->data)->drain(); }

void ZmqDealer::on_check(uv_check_t* handle) { static_cast<ZmqDealer*>(handle->data)->drain(); }

void ZmqDealer::drain() {
  while (open_) {
    int events = 0;
    try {
      events = socket_.get(zmq::sockopt::events);
    } catch (const zmq::error_t&) {
      return;
    }
    if ((events & ZMQ_POLLIN) == 0) return;
    zmq::message_t message;
    if (!socket_.recv(message, zmq::recv_flags::dontwait)) return;
    on_message_(std::string(static_cast<const char*>(message.data()), message.size()));
  }
}

void ZmqDealer::close(int linger_ms) {
  if (!open_) return;
  open_ = false;
  uv_poll_stop(&poll_);
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&check_), nullptr);
  socket_.set(zmq::sockopt::linger, linger_ms);
  socket_.close();
}

}  // namespace cicada::dist
