#pragma once
// A TCP socket owned by a Connection. It is a heap object of its own that frees itself in its
// close callback, so a connection can drop a broken socket and open a new one at once while
// libuv finishes with the old. Writes go out with uv_try_write; what the kernel does not take
// waits in a queue written with uv_write, in order.
#include <uv.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

typedef struct ssl_st SSL;

namespace cicada::http {

class Connection;
struct Socket;

// The requests that users make while the loop handles one round of events go out together
// once the round is over, as wrk does. Writing each at once instead wakes the server for
// nearly every request (on loopback the client's write() runs the server's receive path and
// its wake-up); writing them back to back wakes it once for the lot. A round's requests wait
// at most for the rest of the round, a few microseconds.
class WriteBatch {
 public:
  explicit WriteBatch(uv_loop_t* loop);
  WriteBatch(const WriteBatch&) = delete;
  WriteBatch& operator=(const WriteBatch&) = delete;

  void add(Socket* socket);
  void forget(Socket* socket);
  // Closes the loop handles; call before the loop is closed.
  void close();

 private:
  void flush();

  uv_prepare_t before_poll_{};  // requests made by timers (a user waking from its wait)
  uv_check_t after_poll_{};     // requests made while handling responses
  std::vector<Socket*> sockets_;
  std::vector<Socket*> flushing_;
  bool closed_ = false;
};

struct Socket {
  uv_tcp_t tcp{};
  // A socket writes only once connected: the two requests never live at the same time.
  union {
    uv_connect_t connect_req;
    uv_write_t write_req;
  };
  std::string in_flight;  // handed to uv_write, kept until its callback
  std::string queued;     // written after in_flight
  std::uint64_t bytes_taken = 0;  // bytes the kernel has accepted so far (tells "nothing written")
  bool writing = false;   // uv_write in progress
  bool batched = false;   // `queued` waits in `batch` for the end of the round
  std::uint32_t tls_generation = 0;  // which TLS settings of its connection it was made with
  WriteBatch* batch = nullptr;  // null: write at once
  SSL* ssl = nullptr;     // TLS state of this connection, when it is one
  Connection* owner = nullptr;  // null once the connection dropped this socket

  Socket() : write_req{} {}
  ~Socket();
  bool write_pending() const { return writing || batched; }
};

// Sends bytes in order. Returns 0 or a libuv error code; later failures reach the owner.
int socket_send(Socket& socket, std::string_view bytes);
// Stops reading, closes, and frees the socket when libuv is done with it.
void socket_close(Socket* socket);

}  // namespace cicada::http
