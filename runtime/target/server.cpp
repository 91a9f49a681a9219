#include "runtime/target/server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/target/connection.h"
#include "runtime/target/endpoints.h"

namespace cicada::target {

namespace {

constexpr int kListenBacklog = 1024;

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~UniqueFd() { reset(); }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  int family() const { return storage.ss_family; }

  uint16_t port() const {
    return ntohs(family() == AF_INET6 ? reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port
                                      : reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  }
  void set_port(uint16_t port) {
    if (family() == AF_INET6) {
      reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port = htons(port);
    } else {
      reinterpret_cast<sockaddr_in*>(&storage)->sin_port = htons(port);
    }
  }
};

bool resolve(const std::string& host, uint16_t port, SocketAddress& address, std::string& error) {
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
  if (uv_ip4_addr(host.c_str(), port, v4) == 0) {
    address.length = sizeof(sockaddr_in);
    return true;
  }
  if (uv_ip6_addr(host.c_str(), port, v6) == 0) {
    address.length = sizeof(sockaddr_in6);
    return true;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0 || found == nullptr) {
    error = "cannot resolve host '" + host + "': " + gai_strerror(rc);
    return false;
  }
  std::memcpy(&address.storage, found->ai_addr, found->ai_addrlen);
  address.length = found->ai_addrlen;
  freeaddrinfo(found);
  address.set_port(port);
  return true;
}

uint16_t bound_port(int fd) {
  SocketAddress bound;
  bound.length = sizeof bound.storage;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound.storage), &bound.length);
  return bound.port();
}

std::string describe(const std::string& host, uint16_t port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

UniqueFd open_socket(const SocketAddress& address, bool reuse_port, std::string& error) {
  UniqueFd fd(::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    error = std::string("socket: ") + std::strerror(errno);
    return {};
  }
  const int on = 1;
  // SO_REUSEADDR as libuv would set it: a restart must not wait for old TIME_WAIT connections.
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (reuse_port && ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
    error = std::string("SO_REUSEPORT: ") + std::strerror(errno);
    return {};
  }
  if (::bind(fd.get(), address.get(), address.length) != 0) {
    error = std::strerror(errno);
    return {};
  }
  return fd;
}

// One bound socket per thread, all on the same port. SO_REUSEPORT alone would let a second
// `cicada target` on a busy port start silently and steal half of the connections, so a probe
// socket without it first claims the port the way a plain server would: it fails when the port
// is taken, and for port 0 it is how the kernel picks a port free for everyone.
std::vector<UniqueFd> bind_sockets(const ServerOptions& options, SocketAddress address, std::string& error) {
  std::string reason;
  UniqueFd probe = open_socket(address, false, reason);
  if (!probe.valid()) {
    error = "cannot listen on " + describe(options.host, options.port) + ": " + reason;
    return {};
  }
  address.set_port(bound_port(probe.get()));
  probe.reset();

  std::vector<UniqueFd> sockets;
  for (unsigned i = 0; i < options.threads; ++i) {
    UniqueFd fd = open_socket(address, true, reason);
    if (!fd.valid()) {
      error = "cannot listen on " + describe(options.host, address.port()) + ": " + reason;
      return {};
    }
    sockets.push_back(std::move(fd));
  }
  return sockets;
}

// SIGINT and SIGTERM on the main thread's own loop: the workers' loops only ever see a stop request.
struct SignalWatch {
  std::vector<std::unique_ptr<Worker>>* workers = nullptr;
  uv_signal_t interrupt{};
  uv_signal_t terminate{};

  static void on_signal(uv_signal_t* handle, int) {
    auto* watch = static_cast<SignalWatch*>(handle->data);
    for (auto& worker : *watch->workers) worker->request_stop();
    uv_close(reinterpret_cast<uv_handle_t*>(&watch->interrupt), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&watch->terminate), nullptr);
    // Closing the handles restored the default actions. Shutdown takes milliseconds, and a
    // second signal meanwhile (a supervisor repeating itself, Ctrl-C reaching the process group
    // twice) must not turn the clean exit into a kill.
    std::signal(SIGINT, SIG_IGN);
    std::signal(SIGTERM, SIG_IGN);
  }
};

}  // namespace

int bind_listening_socket(const std::string& host, uint16_t port, uint16_t* bound, std::string& error) {
  SocketAddress address;
  if (!resolve(host, port, address, error)) return -1;
  std::string reason;
  UniqueFd fd = open_socket(address, false, reason);
  if (!fd.valid()) {
    error = "cannot listen on " + describe(host, port) + ": " + reason;
    return -1;
  }
  *bound = bound_port(fd.get());
  return fd.release();
}

std::string host_and_port(const std::string& host, uint16_t port) { return describe(host, port); }

// ---------------------------------------------------------------------------------------------
// Worker

std::unique_ptr<Worker> Worker::create(int listen_fd, std::string& error) {
  UniqueFd fd(listen_fd);
  std::unique_ptr<Worker> worker(new Worker());
  if (const int rc = uv_loop_init(&worker->own_loop_); rc != 0) {
    error = std::string("uv_loop_init: ") + uv_strerror(rc);
    return nullptr;
  }
  worker->loop_initialized_ = true;
  if (!worker->init_listener(fd.release(), error)) return nullptr;
  return worker;
}

std::unique_ptr<Worker> Worker::create_on_loop(uv_loop_t* loop, int listen_fd, Site& site, std::string& error) {
  std::unique_ptr<Worker> worker(new Worker());
  worker->loop_ = loop;
  worker->site_ = &site;
  if (!worker->init_listener(listen_fd, error)) {
    // The handles opened so far are closed on that loop, which may only run later: their
    // memory must outlive it, so this worker is given up rather than freed (the caller ends
    // the process on this error).
    worker->stop();
    (void)worker.release();
    return nullptr;
  }
  return worker;
}

bool Worker::init_listener(int listen_fd, std::string& error) {
  UniqueFd fd(listen_fd);
  const auto failed = [&error](const char* what, int rc) {
    error = std::string(what) + ": " + uv_strerror(rc);
    return false;
  };
  uv_tcp_init(loop_, &listener_);
  listener_initialized_ = true;
  listener_.data = this;
  if (const int rc = uv_tcp_open(&listener_, fd.get()); rc != 0) return failed("uv_tcp_open", rc);
  fd.release();  // closed with the handle from now on
  if (const int rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), kListenBacklog, on_connection); rc != 0) {
    return failed("listen", rc);
  }
  if (const int rc = uv_async_init(loop_, &stop_request_, on_stop_requested); rc != 0) {
    return failed("uv_async_init", rc);
  }
  stop_request_initialized_ = true;
  stop_request_.data = this;
  return true;
}

Worker::~Worker() {
  // On someone else's loop, the owner has stopped the worker and run that loop since.
  if (!loop_initialized_) return;
  // After run() everything is closed already; after a failed start, close what was opened.
  if (!stopped_) stop();
  uv_run(&own_loop_, UV_RUN_DEFAULT);
  if (uv_loop_close(&own_loop_) != 0) std::fprintf(stderr, "cicada target: a libuv handle was left open\n");
}

void Worker::run() { uv_run(loop_, UV_RUN_DEFAULT); }

void Worker::request_stop() {
  if (stop_requested_.exchange(true)) return;
  uv_async_send(&stop_request_);
}

void Worker::on_stop_requested(uv_async_t* handle) { static_cast<Worker*>(handle->data)->stop(); }

void Worker::stop() {
  stopped_ = true;
  if (listener_initialized_) uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
  while (first_connection_ != nullptr) first_connection_->close();  // close() unlinks it
  if (stop_request_initialized_) uv_close(reinterpret_cast<uv_handle_t*>(&stop_request_), nullptr);
}

void Worker::on_connection(uv_stream_t* listener, int status) {
  // A failed accept (EMFILE, say) is retried by libuv when the listener is readable again.
  if (status < 0) return;
  Connection::accept(*static_cast<Worker*>(listener->data), listener);
}

void Worker::link(Connection& connection) {
  connection.previous_in_worker = nullptr;
  connection.next_in_worker = first_connection_;
  if (first_connection_ != nullptr) first_connection_->previous_in_worker = &connection;
  first_connection_ = &connection;
}

void Worker::unlink(Connection& connection) {
  if (connection.previous_in_worker != nullptr) {
    connection.previous_in_worker->next_in_worker = connection.next_in_worker;
  } else {
    first_connection_ = connection.next_in_worker;
  }
  if (connection.next_in_worker != nullptr) connection.next_in_worker->previous_in_worker = connection.previous_in_worker;
  connection.previous_in_worker = connection.next_in_worker = nullptr;
}

// ---------------------------------------------------------------------------------------------
// serve

int serve(const ServerOptions& options) {
  try {
    prepare_documents();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cicada target: %s\n", e.what());
    return 1;
  }
  std::string error;
  SocketAddress address;
  if (!resolve(options.host, options.port, address, error)) {
    std::fprintf(stderr, "cicada target: %s\n", error.c_str());
    return 1;
  }
  std::vector<UniqueFd> sockets = bind_sockets(options, address, error);
  if (sockets.empty()) {
    std::fprintf(stderr, "cicada target: %s\n", error.c_str());
    return 1;
  }
  const uint16_t port = bound_port(sockets.front().get());

  StallClock stall_clock(options.stall);
  std::vector<std::unique_ptr<Worker>> workers;
  for (auto& socket : sockets) {
    auto worker = Worker::create(socket.release(), error);
    if (!worker) {
      std::fprintf(stderr, "cicada target: %s\n", error.c_str());
      return 1;
    }
    if (options.stall.enabled()) worker->set_stall_clock(&stall_clock);
    workers.push_back(std::move(worker));
  }

  uv_loop_t main_loop;
  uv_loop_init(&main_loop);
  SignalWatch signals;
  signals.workers = &workers;
  uv_signal_init(&main_loop, &signals.interrupt);
  uv_signal_init(&main_loop, &signals.terminate);
  signals.interrupt.data = signals.terminate.data = &signals;
  uv_signal_start(&signals.interrupt, SignalWatch::on_signal, SIGINT);
  uv_signal_start(&signals.terminate, SignalWatch::on_signal, SIGTERM);

  std::vector<std::thread> threads;
  int exit_code = 0;
  try {
    for (auto& worker : workers) threads.emplace_back([&worker] { worker->run(); });
    std::printf("cicada target listening on http://%s (%u threads)\n", describe(options.host, port).c_str(),
                options.threads);
    std::fflush(stdout);
    if (options.stall.enabled())
      std::fprintf(stderr, "cicada target: stalling for %.3f s every %.3f s, the first stall %.3f s after the first request\n",
                   static_cast<double>(options.stall.duration_ns) / 1e9, static_cast<double>(options.stall.period_ns) / 1e9,
                   static_cast<double>(options.stall.start_ns) / 1e9);
    uv_run(&main_loop, UV_RUN_DEFAULT);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cicada target: cannot start threads: %s\n", e.what());
    exit_code = 1;
    for (auto& worker : workers) worker->request_stop();
    for (auto* handle : {&signals.interrupt, &signals.terminate}) {
      uv_close(reinterpret_cast<uv_handle_t*>(handle), nullptr);
    }
    uv_run(&main_loop, UV_RUN_DEFAULT);
  }
  for (auto& thread : threads) thread.join();
  workers.clear();
  uv_loop_close(&main_loop);
  return exit_code;
}

}  // namespace cicada::target
