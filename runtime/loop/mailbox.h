#pragma once
// A multi-producer queue drained on one libuv loop, woken with uv_async_t.
//
// This is the only channel between threads: the coordinator posts commands to each worker's
// mailbox and workers post events to the coordinator's. A mutex guards the vector; it is taken
// a few times a second, never on the request path.
#include <uv.h>

#include <functional>
#include <mutex>
#include <utility>
#include <vector>

namespace cicada::loop {

template <class Message>
class Mailbox {
 public:
  using Handler = std::function<void(std::vector<Message>&)>;

  Mailbox() = default;
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  // Must be called on the thread that runs `loop`, before any post().
  void open(uv_loop_t* loop, Handler handler) {
    handler_ = std::move(handler);
    async_.data = this;
    uv_async_init(loop, &async_, [](uv_async_t* async) { static_cast<Mailbox*>(async->data)->drain(); });
    open_ = true;
  }

  // Closes the async handle; the mailbox must outlive the loop's close callbacks.
  void close() {
    if (!open_) return;
    open_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
  }

  // Thread-safe.
  void post(Message message) {
    {
      std::lock_guard lock(mutex_);
      pending_.push_back(std::move(message));
    }
    uv_async_send(&async_);
  }

  // Lets the owner keep the loop alive (ref) or not (unref) on account of the mailbox.
  void set_keeps_loop_alive(bool alive) {
    auto* handle = reinterpret_cast<uv_handle_t*>(&async_);
    alive ? uv_ref(handle) : uv_unref(handle);
  }

 private:
  void drain() {
    {
      std::lock_guard lock(mutex_);
      draining_.swap(pending_);
    }
    if (!draining_.empty()) handler_(draining_);
    draining_.clear();
  }

  std::mutex mutex_;
  std::vector<Message> pending_;
  std::vector<Message> draining_;
  Handler handler_;
  uv_async_t async_{};
  bool open_ = false;
};

}  // namespace cicada::loop
