#include "runtime/http/dns_cache.h"

#include <algorithm>
#include <cstring>

#include <netdb.h>

namespace cicada::http {

struct DnsCache::Lookup {
  uv_getaddrinfo_t req{};
  DnsCache* cache = nullptr;  // null once the cache is gone: the callback only frees memory
  std::string host;
  std::vector<DnsWaiter*> waiters;
};

DnsCache::~DnsCache() { shutdown(); }

const ResolvedAddresses* DnsCache::resolve(const std::string& host, std::uint16_t port, DnsWaiter* waiter) {
  (void)port;  // ports are applied by the caller; lookups are per host
  if (auto it = resolved_.find(host); it != resolved_.end()) return &it->second;

  // Numeric hosts need no lookup.
  sockaddr_storage numeric{};
  if (uv_ip4_addr(host.c_str(), 0, reinterpret_cast<sockaddr_in*>(&numeric)) == 0 ||
      uv_ip6_addr(host.c_str(), 0, reinterpret_cast<sockaddr_in6*>(&numeric)) == 0) {
    auto& entry = resolved_[host];
    entry.addresses.push_back(numeric);
    return &entry;
  }

  if (auto it = in_flight_.find(host); it != in_flight_.end()) {
    it->second->waiters.push_back(waiter);
    return nullptr;
  }
  auto* lookup = new Lookup;
  lookup->cache = this;
  lookup->host = host;
  lookup->waiters.push_back(waiter);
  lookup->req.data = lookup;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  int rc = uv_getaddrinfo(loop_, &lookup->req, &DnsCache::on_getaddrinfo, host.c_str(), nullptr, &hints);
  if (rc != 0) {
    delete lookup;
    static thread_local ResolvedAddresses failure;
    failure.addresses.clear();
    failure.error = uv_strerror(rc);
    return &failure;
  }
  in_flight_[host] = lookup;
  return nullptr;
}

void DnsCache::cancel(DnsWaiter* waiter) {
  for (auto& [host, lookup] : in_flight_) {
    auto& waiters = lookup->waiters;
    waiters.erase(std::remove(waiters.begin(), waiters.end(), waiter), waiters.end());
  }
}

void DnsCache::on_getaddrinfo(uv_getaddrinfo_t* req, int status, addrinfo* result) {
  auto* lookup = static_cast<Lookup*>(req->data);
  DnsCache* cache = lookup->cache;
  if (!cache) {
    uv_freeaddrinfo(result);
    delete lookup;
    return;
  }
  cache->in_flight_.erase(lookup->host);

  ResolvedAddresses outcome;
  if (status != 0) {
    outcome.error = uv_strerror(status);
  } else {
    for (addrinfo* ai = result; ai; ai = ai->ai_next) {
      if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
      sockaddr_storage address{};
      std::memcpy(&address, ai->ai_addr, ai->ai_addrlen);
      outcome.addresses.push_back(address);
    }
    if (outcome.addresses.empty()) outcome.error = "no address";
  }
  uv_freeaddrinfo(result);

  const ResolvedAddresses* stored = &outcome;
  if (outcome.error.empty()) stored = &(cache->resolved_[lookup->host] = std::move(outcome));
  // Waiters may start new lookups or cancel others while being called; take the list first.
  std::vector<DnsWaiter*> waiters = std::move(lookup->waiters);
  delete lookup;
  for (DnsWaiter* waiter : waiters) waiter->on_resolved(*stored);
}

void DnsCache::shutdown() {
  for (auto& [host, lookup] : in_flight_) {
    lookup->cache = nullptr;
    lookup->waiters.clear();
    uv_cancel(reinterpret_cast<uv_req_t*>(&lookup->req));
  }
  in_flight_.clear();
}

}  // namespace cicada::http
