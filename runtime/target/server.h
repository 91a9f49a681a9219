#pragma once
// The target's threads: one libuv loop per thread, each accepting on its own SO_REUSEPORT socket
// so that the kernel spreads connections and the threads share nothing.

#include <uv.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "runtime/target/site.h"
#include "runtime/target/stall.h"

namespace cicada::target {

class Connection;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  unsigned threads = 1;
  StallSchedule stall;  // --stall: none unless enabled()
};

// Binds, serves until SIGINT or SIGTERM, then closes every connection. Prints the listening line
// to stdout once all threads accept connections. Returns the process exit code.
int serve(const ServerOptions& options);

// A bound socket for one listener (no SO_REUSEPORT: a second server on a taken port fails).
// Port 0 picks a free port; `bound_port` gets the port. Returns -1 with `error` set on failure.
int bind_listening_socket(const std::string& host, uint16_t port, uint16_t* bound_port, std::string& error);

// "127.0.0.1:8089", "[::1]:8089".
std::string host_and_port(const std::string& host, uint16_t port);

class Worker {
 public:
  // Takes ownership of `listen_fd` (a bound socket) in every case. Returns null with `error` set
  // when the loop or the listener cannot be set up.
  static std::unique_ptr<Worker> create(int listen_fd, std::string& error);
  // A listener on someone else's loop (the web UI on the run's loop) whose requests `site`
  // answers. Nothing runs until that loop does; request_stop() and stop_now() close the handles,
  // and the worker must outlive that loop's next turn (the handles' close callbacks).
  static std::unique_ptr<Worker> create_on_loop(uv_loop_t* loop, int listen_fd, Site& site, std::string& error);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs the loop on the calling thread until a stop request has closed every handle.
  void run();
  // Callable from any thread, once.
  void request_stop();
  // On the loop's thread: closes the listener and every connection now.
  void stop_now() {
    if (!stopped_) stop();
  }

  uv_loop_t* loop() { return loop_; }
  // The listening socket's descriptor, or -1 once it is closed.
  int listener_fd() const {
    uv_os_fd_t fd = -1;
    return listener_initialized_ && !stopped_ && uv_fileno(reinterpret_cast<const uv_handle_t*>(&listener_), &fd) == 0 ? fd : -1;
  }
  Site* site() const { return site_; }

  // All connections of a worker read into this one buffer: a read callback parses (or copies)
  // the bytes before returning, so a buffer per connection would only cost memory.
  char* read_buffer() { return read_buffer_.data(); }
  size_t read_buffer_size() const { return read_buffer_.size(); }

  // --stall: shared by every thread of the target (null without --stall).
  StallClock* stall_clock() const { return stall_clock_; }
  void set_stall_clock(StallClock* clock) { stall_clock_ = clock; }

  // Ids for the jobs POST /api/jobs creates: counted per thread, as threads share nothing.
  uint64_t next_job_id() { return ++last_job_id_; }

  void link(Connection& connection);
  void unlink(Connection& connection);

 private:
  Worker() = default;
  void stop();
  static void on_connection(uv_stream_t* listener, int status);
  static void on_stop_requested(uv_async_t* handle);

  bool init_listener(int listen_fd, std::string& error);

  uv_loop_t own_loop_{};
  uv_loop_t* loop_ = &own_loop_;
  Site* site_ = nullptr;
  uv_tcp_t listener_{};
  uv_async_t stop_request_{};
  bool loop_initialized_ = false;
  bool listener_initialized_ = false;
  bool stop_request_initialized_ = false;
  bool stopped_ = false;
  std::atomic<bool> stop_requested_{false};
  Connection* first_connection_ = nullptr;
  uint64_t last_job_id_ = 0;
  StallClock* stall_clock_ = nullptr;
  std::array<char, 64 * 1024> read_buffer_{};
};

}  // namespace cicada::target
