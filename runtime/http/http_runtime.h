#pragma once
// Per-thread HTTP state shared by every connection of the thread: DNS cache, the read buffer,
// a pool of response buffers, default timeouts.
#include <uv.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "runtime/http/client.h"
#include "runtime/http/dns_cache.h"
#include "runtime/http/response.h"
#include "runtime/http/socket.h"
#include "runtime/http/tls.h"

namespace cicada::http {

struct HttpDefaults {
  double connect_timeout_s = 10.0;
  double request_timeout_s = 60.0;  // from the call to the last byte of the response
  std::size_t max_body = 16u << 20;  // bytes of body kept per response
  TlsSettings tls;                   // verification on, system CAs (--insecure turns it off)
  std::string user_agent = "cicada/" CICADA_VERSION;
};

class HttpRuntime {
 public:
  explicit HttpRuntime(uv_loop_t* loop) : loop_(loop), dns_(loop), writes_(loop), connections_(this) {}

  uv_loop_t* loop() const { return loop_; }
  DnsCache& dns() { return dns_; }
  WriteBatch& writes() { return writes_; }
  TlsContexts& tls() { return tls_; }
  ConnectionPool& pool() { return connections_; }
  HttpDefaults& defaults() { return defaults_; }
  // The default TLS settings as one shared object, made once the run's settings are final.
  std::shared_ptr<const TlsSettings> default_tls() {
    if (!default_tls_) default_tls_ = std::make_shared<const TlsSettings>(defaults_.tls);
    return default_tls_;
  }

  // Every socket of the thread reads into this buffer; data is parsed before the next read.
  uv_buf_t read_buffer() { return uv_buf_init(read_buffer_.data(), static_cast<unsigned>(read_buffer_.size())); }

  void shutdown() {
    connections_.close_all();
    dns_.shutdown();
    writes_.close();
  }

 private:
  uv_loop_t* loop_;
  DnsCache dns_;
  WriteBatch writes_;
  TlsContexts tls_;
  ConnectionPool connections_;
  HttpDefaults defaults_;
  std::shared_ptr<const TlsSettings> default_tls_;
  std::array<char, 64 * 1024> read_buffer_{};
};

}  // namespace cicada::http
