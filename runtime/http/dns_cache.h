#pragma once
// Per-thread DNS cache. Numeric addresses are parsed on the spot; names are resolved off the
// loop with uv_getaddrinfo and kept for the rest of the run. Several connections may wait for
// the same name: one lookup serves them all.
#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>

namespace cicada::http {

struct ResolvedAddresses {
  std::vector<sockaddr_storage> addresses;  // in getaddrinfo's order
  std::string error;                        // non-empty when the lookup failed
};

class DnsWaiter {
 public:
  virtual ~DnsWaiter() = default;
  virtual void on_resolved(const ResolvedAddresses& result) = 0;
};

class DnsCache {
 public:
  explicit DnsCache(uv_loop_t* loop) : loop_(loop) {}
  ~DnsCache();
  DnsCache(const DnsCache&) = delete;
  DnsCache& operator=(const DnsCache&) = delete;

  // Returns the cached addresses at once (non-null), or registers `waiter` and returns null;
  // the waiter is then called from the loop unless cancel() was called first.
  const ResolvedAddresses* resolve(const std::string& host, std::uint16_t port, DnsWaiter* waiter);
  void cancel(DnsWaiter* waiter);
  // Cancels outstanding lookups so the loop can close.
  void shutdown();

 private:
  struct Lookup;
  static void on_getaddrinfo(uv_getaddrinfo_t* req, int status, addrinfo* result);

  uv_loop_t* loop_;
  std::unordered_map<std::string, ResolvedAddresses> resolved_;  // key: host
  std::unordered_map<std::string, Lookup*> in_flight_;
};

}  // namespace cicada::http
