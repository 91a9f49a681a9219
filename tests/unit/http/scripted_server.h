#pragma once
// A loopback TCP server on the test's own libuv loop that answers each request with scripted
// bytes: what a misbehaving or unusual server would send. For the HTTP client's unit tests.
#include <uv.h>

#include <deque>
#include <string>
#include <vector>

namespace cicada::testing {

struct ScriptedReply {
  std::string bytes;            // sent once a full request head has arrived
  bool close_after = false;     // close the connection after sending
  bool close_without_reply = false;
  bool never_reply = false;
  bool reply_on_head = false;  // answer as soon as the head arrives, before any body (an early response)
};

class ScriptedServer {
 public:
  explicit ScriptedServer(uv_loop_t* loop);
  ~ScriptedServer();

  int port() const { return port_; }
  void push(ScriptedReply reply) { replies_.push_back(std::move(reply)); }
  int connections_accepted() const { return accepted_; }
  int requests_seen() const { return requests_; }
  const std::string& last_request() const { return last_request_; }
  // Every request received (head and body), in order.
  const std::vector<std::string>& requests() const { return requests_received_; }
  // Closes every accepted connection now (the client sees its keep-alive socket closed).
  void close_all_connections();
  void close();

 private:
  struct Peer {
    uv_tcp_t tcp{};
    ScriptedServer* server = nullptr;
    std::string received;
    bool closing = false;
  };
  static void on_connection(uv_stream_t* listener, int status);
  void on_peer_data(Peer* peer);
  void close_peer(Peer* peer);

  uv_loop_t* loop_;
  uv_tcp_t listener_{};
  int port_ = 0;
  bool closed_ = false;
  std::deque<ScriptedReply> replies_;
  std::vector<Peer*> peers_;
  int accepted_ = 0;
  int requests_ = 0;
  std::string last_request_;
  std::vector<std::string> requests_received_;
};

}  // namespace cicada::testing
