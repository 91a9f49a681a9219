// libFuzzer target: the built-in target's request side (runtime/target/connection.cpp and the
// endpoints): llhttp's request parser with the target's callbacks, pipelining, bodies, the
// routes and their query and path parsing. The target runs on its own thread, as in
// `cicada target`; each input is sent on a new loopback connection, whose write side is then
// shut, and everything the target answers is read until it closes the connection.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "runtime/target/server.h"

namespace {

struct Target {
  std::unique_ptr<cicada::target::Worker> worker;
  std::thread thread;
  std::uint16_t port = 0;

  Target() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
      std::abort();
    port = ntohs(address.sin_port);
    std::string error;
    worker = cicada::target::Worker::create(fd, error);
    if (!worker) std::abort();
    thread = std::thread([this] { worker->run(); });
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Target* target = new Target;  // for the whole run; reachable, so not a leak
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(target->port);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) std::abort();
  // An answer that takes long (/delay/{ms}) is not a bug; a target that never closes after the
  // client's FIN would be, and the 5 s timeout below reports it as a hang.
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::size_t sent = 0;
  while (sent < size) {
    const ssize_t n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the target closed early (a bad request): fine
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  char buffer[65536];
  while (true) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) std::abort();  // no close within 5 s: a hang
      break;  // reset: the target gave up on a bad request
    }
  }
  ::close(fd);
  return 0;
}
