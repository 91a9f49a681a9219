#include "scripted_server.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace cicada::testing {

ScriptedServer::ScriptedServer(uv_loop_t* loop) : loop_(loop) {
  uv_tcp_init(loop_, &listener_);
  listener_.data = this;
  sockaddr_in address{};
  uv_ip4_addr("127.0.0.1", 0, &address);
  uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&address), 0);
  uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 64, &ScriptedServer::on_connection);
  sockaddr_storage bound{};
  int length = sizeof bound;
  uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&bound), &length);
  port_ = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

ScriptedServer::~ScriptedServer() { close(); }

void ScriptedServer::close() {
  if (closed_) return;
  closed_ = true;
  close_all_connections();
  uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
}

void ScriptedServer::on_connection(uv_stream_t* listener, int status) {
  auto* server = static_cast<ScriptedServer*>(listener->data);
  if (status < 0) return;
  auto* peer = new Peer;
  peer->server = server;
  peer->tcp.data = peer;
  uv_tcp_init(server->loop_, &peer->tcp);
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&peer->tcp)) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&peer->tcp), [](uv_handle_t* h) { delete static_cast<Peer*>(h->data); });
    return;
  }
  ++server->accepted_;
  server->peers_.push_back(peer);
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&peer->tcp),
      [](uv_handle_t*, std::size_t suggested, uv_buf_t* buf) {
        buf->base = static_cast<char*>(std::malloc(suggested));
        buf->len = suggested;
      },
      [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
        auto* p = static_cast<Peer*>(stream->data);
        if (nread > 0) {
          p->received.append(buf->base, static_cast<std::size_t>(nread));
          std::free(buf->base);
          p->server->on_peer_data(p);
          return;
        }
        std::free(buf->base);
        if (nread < 0) p->server->close_peer(p);
      });
}

void ScriptedServer::on_peer_data(Peer* peer) {
  // One reply per complete request head (bodies are small in these tests and come with it).
  for (;;) {
    std::size_t end = peer->received.find("\r\n\r\n");
    if (end == std::string::npos || peer->closing) return;
    std::string head = peer->received.substr(0, end + 4);
    std::size_t consumed = end + 4;
    bool early = !replies_.empty() && replies_.front().reply_on_head;
    if (const char* cl = strcasestr(head.c_str(), "\r\ncontent-length:"); cl && !early)
      consumed += std::strtoul(cl + 17, nullptr, 10);
    if (peer->received.size() < consumed) return;
    last_request_ = peer->received.substr(0, consumed);
    requests_received_.push_back(last_request_);
    peer->received.erase(0, consumed);
    ++requests_;
    if (replies_.empty()) {
      close_peer(peer);
      return;
    }
    ScriptedReply reply = std::move(replies_.front());
    replies_.pop_front();
    if (reply.never_reply) continue;
    if (reply.close_without_reply) {
      close_peer(peer);
      return;
    }
    auto* req = new uv_write_t;
    auto* data = new std::string(std::move(reply.bytes));
    req->data = data;
    uv_buf_t buf = uv_buf_init(data->data(), static_cast<unsigned>(data->size()));
    uv_write(req, reinterpret_cast<uv_stream_t*>(&peer->tcp), &buf, 1, [](uv_write_t* r, int) {
      delete static_cast<std::string*>(r->data);
      delete r;
    });
    if (reply.close_after) {
      close_peer(peer);
      return;
    }
  }
}

void ScriptedServer::close_peer(Peer* peer) {
  if (peer->closing) return;
  peer->closing = true;
  peers_.erase(std::remove(peers_.begin(), peers_.end(), peer), peers_.end());
  uv_close(reinterpret_cast<uv_handle_t*>(&peer->tcp), [](uv_handle_t* h) { delete static_cast<Peer*>(h->data); });
}

void ScriptedServer::close_all_connections() {
  std::vector<Peer*> open = peers_;
  for (Peer* peer : open) close_peer(peer);
}

}  // namespace cicada::testing
