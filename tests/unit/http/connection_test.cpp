// The HTTP/1.1 client connection against a scripted loopback server: framing, keep-alive,
// reconnects, retries, timeouts and failures, with no Lua involved.
#include <doctest/doctest.h>

#include <optional>

#include "runtime/http/connection.h"
#include "runtime/http/http_runtime.h"
#include "loopback_client.h"
#include "scripted_server.h"

using namespace cicada;
using cicada::testing::ScriptedReply;
using cicada::testing::ScriptedServer;

namespace {

struct Harness : cicada::testing::LoopbackClient {
  int completions = 0;
  std::optional<http::ResponseData> result;

  ~Harness() { CHECK(close()); }

  // Sends one request and runs the loop until it completes (or a 5 s guard expires).
  http::ResponseData exchange(const std::string& method, const std::string& path, double timeout_s = 0,
                              const std::string& body = "", http::ExchangeLimits limits = {}) {
    begin(method, path, timeout_s, body, limits);
    guard.data = this;
    uv_timer_start(&guard, [](uv_timer_t* t) { uv_stop(&static_cast<Harness*>(t->data)->loop); }, 5000, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_timer_stop(&guard);
    REQUIRE(result.has_value());
    return std::move(*result);
  }

  // Starts one request without running the loop.
  void begin(const std::string& method, const std::string& path, double timeout_s = 0, const std::string& body = "",
             http::ExchangeLimits limits = {}) {
    std::string& bytes = connection->request_bytes();
    bytes = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (!body.empty()) bytes += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    bytes += "\r\n" + body;
    result.reset();
    http::Connection::Exchange ex;
    ex.method = method;
    ex.limits = limits;
    if (timeout_s > 0) ex.limits.timeout_s = timeout_s;
    ex.waiter = this;
    ex.on_complete = [](void* waiter, http::ResponseData& response) {
      auto* self = static_cast<Harness*>(waiter);
      ++self->completions;
      self->result.emplace();
      self->result->swap(response);
      uv_stop(&self->loop);
    };
    connection->start(ex);
    CHECK_FALSE(result.has_value());  // never completes synchronously
  }

  // Lets pending I/O (a server closing a socket) reach the client.
  void settle() {
    for (int i = 0; i < 20; ++i) uv_run(&loop, UV_RUN_NOWAIT);
    uv_sleep(20);
    for (int i = 0; i < 20; ++i) uv_run(&loop, UV_RUN_NOWAIT);
  }
};

std::string ok_response(const std::string& body, const std::string& extra = "") {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
}

}  // namespace

TEST_CASE("Content-Length responses keep the connection alive") {
  Harness h;
  h.server->push({ok_response("hello", "X-Thing: 1\r\nx-thing: 2\r\n")});
  h.server->push({ok_response("again")});
  auto first = h.exchange("GET", "/a");
  CHECK(first.status == 200);
  CHECK(first.error.empty());
  CHECK(first.body == "hello");
  CHECK(first.content_length == 5);
  REQUIRE(first.find_header("x-THING"));
  CHECK(first.header_value(*first.find_header("x-thing")) == "1");
  CHECK(first.headers.size() == 3);
  CHECK(first.elapsed_ns > 0);
  auto second = h.exchange("GET", "/b");
  CHECK(second.body == "again");
  CHECK(h.server->connections_accepted() == 1);
  CHECK(h.completions == 2);
}

TEST_CASE("a head that arrives a byte per read, with a folded header line, comes out whole") {
  // Header spans point into the head as received; a head cut anywhere by the reads must give
  // the same names and values as one that arrives in a single read.
  Harness h;
  ScriptedReply silent;
  silent.never_reply = true;
  h.server->push(silent);
  h.begin("GET", "/pieces");
  h.settle();  // the request is written and the server holds it
  REQUIRE(h.server->requests_seen() == 1);
  std::string bytes = "HTTP/1.1 200 OK\r\nServer: scripted\r\nX-Folded: first\r\n  second\r\nContent-Length: 4\r\n"
                      "Set-Cookie: a=1\r\nX-Empty:\r\n\r\nbody";
  for (char c : bytes) {
    REQUIRE_FALSE(h.result.has_value());
    h.connection->on_plaintext(&c, 1);
  }
  REQUIRE(h.result.has_value());
  h.settle();  // clears the uv_stop() of the completion, which ran outside uv_run
  const http::ResponseData& response = *h.result;
  CHECK(response.error.empty());
  CHECK(response.status == 200);
  CHECK(response.body == "body");
  REQUIRE(response.headers.size() == 5);
  CHECK(response.header_name(response.headers[0]) == "Server");
  CHECK(response.header_value(response.headers[0]) == "scripted");
  // RFC 9112, 5.2: the obs-fold's CR LF become spaces.
  CHECK(response.header_value(*response.find_header("x-folded")) == "first    second");
  CHECK(response.header_value(*response.find_header("content-length")) == "4");
  CHECK(response.header_value(*response.find_header("set-cookie")) == "a=1");
  CHECK(response.header_name(response.headers[4]) == "X-Empty");
  CHECK(response.header_value(response.headers[4]).empty());
}

TEST_CASE("chunked bodies are decoded") {
  Harness h;
  h.server->push({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"});
  auto response = h.exchange("GET", "/c");
  CHECK(response.status == 200);
  CHECK(response.body == "hello world");
}

TEST_CASE("a body without length ends when the server closes") {
  Harness h;
  h.server->push({"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end", true});
  h.server->push({ok_response("next")});
  auto response = h.exchange("GET", "/eof");
  CHECK(response.error.empty());
  CHECK(response.body == "until the end");
  auto next = h.exchange("GET", "/next");
  CHECK(next.body == "next");
  CHECK(h.server->connections_accepted() == 2);
}

TEST_CASE("Connection: close makes the next request reconnect") {
  Harness h;
  h.server->push({ok_response("bye", "Connection: close\r\n"), true});
  h.server->push({ok_response("hi")});
  CHECK(h.exchange("GET", "/close").body == "bye");
  CHECK(h.exchange("GET", "/").body == "hi");
  CHECK(h.server->connections_accepted() == 2);
}

TEST_CASE("interim 1xx responses are skipped") {
  Harness h;
  h.server->push({"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n" + ok_response("final")});
  auto response = h.exchange("GET", "/1xx");
  CHECK(response.status == 200);
  CHECK(response.body == "final");
  CHECK_FALSE(response.find_header("link"));
}

TEST_CASE("HEAD responses have no body even with a Content-Length") {
  Harness h;
  h.server->push({"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"});
  h.server->push({ok_response("after")});
  auto head = h.exchange("HEAD", "/h");
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  CHECK(h.exchange("GET", "/").body == "after");
  CHECK(h.server->connections_accepted() == 1);
}

TEST_CASE("statuses >= 400 are failures with the status in the error") {
  Harness h;
  h.server->push({"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"});
  auto response = h.exchange("GET", "/down");
  CHECK(response.status == 503);
  CHECK(response.error == "HTTP 503 Service Unavailable");
}

TEST_CASE("a keep-alive connection the server closed is retried once for idempotent requests") {
  Harness h;
  h.server->push({ok_response("one")});
  CHECK(h.exchange("GET", "/").body == "one");
  // The server drops the request without answering, as when its keep-alive timeout races ours.
  h.server->push({"", false, true});
  h.server->push({ok_response("two")});
  auto retried = h.exchange("GET", "/");
  CHECK(retried.error.empty());
  CHECK(retried.body == "two");
  CHECK(h.server->connections_accepted() == 2);
  CHECK(h.completions == 2);  // the retry completes once, not twice
}

TEST_CASE("a non-idempotent request on a dropped connection fails instead of being sent twice") {
  Harness h;
  h.server->push({ok_response("one")});
  CHECK(h.exchange("GET", "/").body == "one");
  h.server->push({"", false, true});
  auto failed = h.exchange("POST", "/pay", 0, "x");
  CHECK(failed.status == 0);
  CHECK((failed.error == "closed" || failed.error == "reset"));
  CHECK(h.server->requests_seen() == 2);
}

TEST_CASE("an idle keep-alive socket closed by the server is replaced quietly") {
  Harness h;
  h.server->push({ok_response("one")});
  CHECK(h.exchange("GET", "/").body == "one");
  h.server->close_all_connections();
  h.settle();
  h.server->push({ok_response("two")});
  CHECK(h.exchange("GET", "/").body == "two");
  CHECK(h.server->connections_accepted() == 2);
}

TEST_CASE("garbage is a bad response") {
  Harness h;
  h.server->push({"this is not HTTP\r\n\r\n"});
  auto response = h.exchange("GET", "/");
  CHECK(response.status == 0);
  CHECK(response.error == "bad response (Expected HTTP/)");
}

TEST_CASE("a body shorter than its Content-Length is a failure when the server closes") {
  Harness h;
  h.server->push({"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", true});
  auto response = h.exchange("GET", "/");
  CHECK(response.status == 0);
  CHECK(response.error == "closed");
}

TEST_CASE("no answer is a timeout") {
  Harness h;
  h.server->push({"", false, false, true});
  auto response = h.exchange("GET", "/slow", 0.1);
  CHECK(response.status == 0);
  CHECK(response.error == "timeout");
  CHECK(response.elapsed_ns >= 90'000'000);
}

TEST_CASE("a closed port is connect refused") {
  Harness h;
  h.server->close();
  h.settle();
  auto response = h.exchange("GET", "/");
  CHECK(response.status == 0);
  CHECK(response.error == "connect refused");
}

TEST_CASE("abort drops the exchange without recording it") {
  Harness h;
  h.server->push({"", false, false, true});
  std::string& bytes = h.connection->request_bytes();
  bytes = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  http::Connection::Exchange ex;
  ex.method = "GET";
  ex.waiter = &h;
  ex.on_complete = [](void*, http::ResponseData&) { FAIL("aborted exchange completed"); };
  h.connection->start(ex);
  h.settle();
  h.connection->abort();
  CHECK_FALSE(h.connection->busy());
  h.settle();
  CHECK(h.completions == 0);
}

TEST_CASE("first-byte and idle timeouts are their own failures") {
  Harness h;
  h.server->push({"", false, false, true});
  http::ExchangeLimits waiting;
  waiting.first_byte_timeout_s = 0.1;
  auto silent = h.exchange("GET", "/", 5, "", waiting);
  CHECK(silent.error == "first byte timeout");

  Harness h2;
  h2.server->push({"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart"});
  http::ExchangeLimits idle;
  idle.idle_timeout_s = 0.1;
  auto stalled = h2.exchange("GET", "/", 5, "", idle);
  CHECK(stalled.error == "idle timeout");
  CHECK(stalled.status == 0);
}

TEST_CASE("the kept body is bounded; discard_body counts without keeping") {
  Harness h;
  std::string big(100, 'x');
  h.server->push({ok_response(big)});
  h.server->push({ok_response(big)});
  http::ExchangeLimits small;
  small.max_body = 10;
  auto refused = h.exchange("GET", "/", 0, "", small);
  CHECK(refused.error == "body too large");
  http::ExchangeLimits discard;
  discard.max_body = 10;
  discard.discard_body = true;
  auto counted = h.exchange("GET", "/", 0, "", discard);
  CHECK(counted.error.empty());
  CHECK(counted.body.empty());
  CHECK(counted.content_length == 100);
}

TEST_CASE("headers beyond 1 MiB are refused") {
  Harness h;
  std::string header_lines;
  for (int i = 0; i < 2048; ++i) header_lines += "X-Filler-" + std::to_string(i) + ": " + std::string(1000, 'y') + "\r\n";
  h.server->push({"HTTP/1.1 200 OK\r\n" + header_lines + "Content-Length: 0\r\n\r\n"});
  auto response = h.exchange("GET", "/");
  CHECK(response.error == "headers too large");
}

TEST_CASE("an early response before the body is sent is the answer, not a transport error") {
  Harness h;
  ScriptedReply reply{"HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", true};
  reply.reply_on_head = true;
  h.server->push(reply);
  auto response = h.exchange("POST", "/upload", 5, std::string(8 << 20, 'b'));
  CHECK(response.status == 413);
  CHECK(response.error == "HTTP 413 Content Too Large");
}

TEST_CASE("timings: connect on a new connection, none on a reused one") {
  Harness h;
  h.server->push({ok_response("a")});
  h.server->push({ok_response("b")});
  auto first = h.exchange("GET", "/");
  CHECK(first.timings.connect_ns > 0);
  CHECK(first.timings.wait_ns > 0);
  CHECK(first.timings.dns_ns + first.timings.connect_ns + first.timings.send_ns + first.timings.wait_ns +
            first.timings.receive_ns <=
        first.elapsed_ns);
  auto second = h.exchange("GET", "/");
  CHECK(second.timings.connect_ns == 0);
  CHECK(second.timings.wait_ns > 0);
}

TEST_CASE("an HTTP/1.0 answer closes the connection unless it says keep-alive") {
  Harness h;
  h.server->push({"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\none", true});
  h.server->push({"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\ntwo"});
  h.server->push({ok_response("three")});
  CHECK(h.exchange("GET", "/").body == "one");
  CHECK(h.exchange("GET", "/").body == "two");
  CHECK(h.exchange("GET", "/").body == "three");
  CHECK(h.server->connections_accepted() == 2);
}
