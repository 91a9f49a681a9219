#pragma once
// The life of one request of a client: its hops (the first, then each redirect followed), the
// cookie jar across hops, the deadline that spans them, and the timings summed over them. It
// completes once, with the last hop's response or the reason it stopped ("too many redirects",
// "bad redirect", a transport error).
//
// The caller fills the fields of what to send (prepare() sets the client's defaults first),
// then calls start(); the completion runs from the loop, never inside start(). A Request can be
// reused for the next one once it has completed or been aborted: its strings keep their
// capacity, so a steady run of requests allocates nothing here.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/http/connection.h"
#include "runtime/http/request_writer.h"
#include "runtime/http/response.h"
#include "runtime/http/tls.h"
#include "runtime/http/url.h"

namespace cicada::http {

class Client;

class Request {
 public:
  // `error` is empty on success; the response is the last hop's (status 0 when none arrived).
  using Completion = void (*)(void* owner, Request& request, ResponseData& response, std::string_view error);

  // What to send. The method may change on the way (a 303 turns a POST into a GET);
  // original_method is what the request is recorded under.
  std::string method;
  std::string original_method;
  Url url;                     // where the current hop goes
  HeaderBlock headers;
  std::string extra_cookies;   // given with the request: sent with every same-origin hop, not kept in the jar
  std::string body;
  std::string content_type;
  ExchangeLimits limits;       // timeout_s is the whole request's deadline, over every hop
  TlsSettings tls;             // used when own_tls; otherwise the client's settings
  bool own_tls = false;
  bool allow_redirects = true;
  int redirects_left = 30;

  // Sets the client's defaults (limits, redirects) and clears what the last request sent.
  void prepare(const Client& client, std::string_view method);
  // Sends the first hop on a connection of `client`. False (nothing started) when the client
  // already has too many requests in flight to that endpoint.
  bool start(Client* client, std::uint64_t started_ns, void* owner, Completion on_complete);
  // The owner is gone (its user stopped): the exchange in flight is dropped, nothing completes.
  void abort();

  // Where and how it went, valid in the completion.
  std::uint64_t started_ns() const { return started_ns_; }
  const std::string& url_text() const { return url_text_; }  // the current (last) hop's URL
  const std::vector<std::pair<int, std::string>>& history() const { return history_; }  // (status, url) per redirect
  const Timings& timings() const { return timings_; }  // summed over every hop
  Client* client() const { return client_; }

 private:
  bool send_hop();
  // A 3xx with a Location, to follow: true when the next hop was started; otherwise false,
  // with `error` set when the redirect could not be followed.
  bool follow_redirect(const ResponseData& response, const char** error);
  static void on_exchange_done(void* waiter, ResponseData& response);

  Client* client_ = nullptr;
  Connection* connection_ = nullptr;
  void* owner_ = nullptr;
  Completion on_complete_ = nullptr;
  std::uint64_t started_ns_ = 0;
  std::string url_text_;
  std::vector<std::pair<int, std::string>> history_;
  Timings timings_;
};

}  // namespace cicada::http
