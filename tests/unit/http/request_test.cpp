// The life of a request (runtime/http/request.h) against scripted loopback servers: redirects
// of every status, method rewriting, credentials that stay with their origin, limits, the
// cookie jar across hops and the deadline that spans them. No Lua involved.
#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>

#include "runtime/http/client.h"
#include "runtime/http/http_runtime.h"
#include "runtime/http/request.h"
#include "scripted_server.h"

using namespace cicada;
using cicada::testing::ScriptedReply;
using cicada::testing::ScriptedServer;

namespace {

std::string reply(int status, const std::string& extra_headers = "", const std::string& body = "") {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\n" + extra_headers + "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string redirect(int status, const std::string& location, const std::string& extra_headers = "") {
  return reply(status, "Location: " + location + "\r\n" + extra_headers);
}

bool has_header_line(const std::string& request, const std::string& line) {
  return request.find("\r\n" + line + "\r\n") != std::string::npos;
}

bool has_header(const std::string& request, const std::string& name) {
  return request.find("\r\n" + name + ":") != std::string::npos;
}

std::string request_line(const std::string& request) { return request.substr(0, request.find("\r\n")); }

struct Outcome {
  int completions = 0;
  int status = 0;
  std::string error;
  std::string body;
};

struct RequestHarness {
  uv_loop_t loop{};
  std::optional<http::HttpRuntime> runtime;
  std::optional<ScriptedServer> server;  // the client's host
  std::optional<ScriptedServer> other;   // another origin (another port)
  std::unique_ptr<http::Client> client;
  http::Request request;
  Outcome outcome;
  uv_timer_t guard{};

  RequestHarness() {
    uv_loop_init(&loop);
    runtime.emplace(&loop);
    server.emplace(&loop);
    other.emplace(&loop);
    std::string error;
    auto base = http::parse_url("http://127.0.0.1:" + std::to_string(server->port()), &error);
    REQUIRE(base);
    client = std::make_unique<http::Client>(&*runtime, std::move(*base), http::ClientOptions{});
    uv_timer_init(&loop, &guard);
  }

  ~RequestHarness() {
    client.reset();
    server->close();
    other->close();
    runtime->shutdown();
    uv_close(reinterpret_cast<uv_handle_t*>(&guard), nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
  }

  std::string other_origin() const { return "http://127.0.0.1:" + std::to_string(other->port()); }

  // Prepares `method` to `path` on the client's host; the caller may change what to send.
  http::Request& prepare(const std::string& method, const std::string& path) {
    request.prepare(*client, method);
    request.url = *client->base();
    request.url.path = path;
    return request;
  }

  // Starts the prepared request and runs the loop until it completes (or a 5 s guard expires).
  const Outcome& run() {
    outcome = Outcome{};
    REQUIRE(request.start(&*client, uv_hrtime(), this, [](void* owner, http::Request&, http::ResponseData& response,
                                                         std::string_view error) {
      auto* self = static_cast<RequestHarness*>(owner);
      ++self->outcome.completions;
      self->outcome.status = response.status;
      self->outcome.error = std::string(error);
      self->outcome.body = response.body;
      uv_stop(&self->loop);
    }));
    CHECK(outcome.completions == 0);  // never completes inside start()
    guard.data = this;
    uv_timer_start(&guard, [](uv_timer_t* t) { uv_stop(&static_cast<RequestHarness*>(t->data)->loop); }, 5000, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_timer_stop(&guard);
    // Anything left to run (a second completion would show here).
    uv_run(&loop, UV_RUN_NOWAIT);
    REQUIRE(outcome.completions == 1);
    return outcome;
  }
};

}  // namespace

TEST_CASE("each redirect status is followed, and the history names every hop") {
  for (int status : {301, 302, 303, 307, 308}) {
    CAPTURE(status);
    RequestHarness h;
    h.server->push({redirect(status, "/next")});
    h.server->push({reply(200, "", "done")});
    h.prepare("GET", "/start");
    const Outcome& out = h.run();
    CHECK(out.status == 200);
    CHECK(out.error.empty());
    CHECK(out.body == "done");
    REQUIRE(h.server->requests().size() == 2);
    CHECK(request_line(h.server->requests()[1]) == "GET /next HTTP/1.1");
    REQUIRE(h.request.history().size() == 1);
    CHECK(h.request.history()[0].first == status);
    CHECK(h.request.history()[0].second == "http://127.0.0.1:" + std::to_string(h.server->port()) + "/start");
    CHECK(h.request.url_text() == "http://127.0.0.1:" + std::to_string(h.server->port()) + "/next");
    CHECK(h.request.original_method == "GET");
  }
}

TEST_CASE("a POST becomes a GET without its body after 301, 302 and 303, and stays a POST after 307 and 308") {
  for (int status : {301, 302, 303, 307, 308}) {
    CAPTURE(status);
    RequestHarness h;
    h.server->push({redirect(status, "/next")});
    h.server->push({reply(200)});
    http::Request& request = h.prepare("POST", "/form");
    request.body = "a=1";
    request.content_type = "application/x-www-form-urlencoded";
    h.run();
    REQUIRE(h.server->requests().size() == 2);
    const std::string& second = h.server->requests()[1];
    const bool keeps_method = status == 307 || status == 308;
    CHECK(request_line(second) == (keeps_method ? "POST /next HTTP/1.1" : "GET /next HTTP/1.1"));
    CHECK(has_header(second, "Content-Type") == keeps_method);
    CHECK(has_header(second, "Content-Length") == keeps_method);
    CHECK((second.substr(second.size() - 3) == "a=1") == keeps_method);
    CHECK(h.request.original_method == "POST");  // what the sample is recorded under
  }
}

TEST_CASE("a HEAD stays a HEAD after a 303") {
  RequestHarness h;
  h.server->push({redirect(303, "/next")});
  h.server->push({reply(200)});
  h.prepare("HEAD", "/start");
  // HEAD requests do not follow redirects by default (as python-requests); asked to, they stay HEAD.
  CHECK_FALSE(h.request.allow_redirects);
  h.request.allow_redirects = true;
  h.run();
  REQUIRE(h.server->requests().size() == 2);
  CHECK(request_line(h.server->requests()[1]) == "HEAD /next HTTP/1.1");
}

TEST_CASE("credentials given with the request stay with their origin; the jar's cookies follow their scope") {
  RequestHarness h;
  // Same origin first, then another port (another origin on the same host).
  h.server->push({redirect(302, "/same", "Set-Cookie: jar=1; Path=/\r\n")});
  h.server->push({redirect(302, h.other_origin() + "/elsewhere")});
  h.other->push({reply(200)});
  http::Request& request = h.prepare("GET", "/start");
  request.headers.add("Authorization", "Bearer secret");
  request.headers.add("X-Trace", "kept");
  request.extra_cookies = "given=2";
  h.run();
  REQUIRE(h.server->requests().size() == 2);
  const std::string& same = h.server->requests()[1];
  CHECK(has_header_line(same, "Authorization: Bearer secret"));
  CHECK(has_header_line(same, "Cookie: jar=1; given=2"));
  REQUIRE(h.other->requests().size() == 1);
  const std::string& elsewhere = h.other->requests()[0];
  CHECK_FALSE(has_header(elsewhere, "Authorization"));
  CHECK(has_header_line(elsewhere, "X-Trace: kept"));
  // Cookies ignore ports (RFC 6265): the jar's cookie for 127.0.0.1 goes along, the request's own does not.
  CHECK(has_header_line(elsewhere, "Cookie: jar=1"));
}

TEST_CASE("a Cookie header given with the request does not leave its origin either") {
  RequestHarness h;
  h.server->push({redirect(307, h.other_origin() + "/x")});
  h.other->push({reply(200)});
  h.prepare("GET", "/start").headers.add("Cookie", "session=abc");
  h.run();
  CHECK(has_header_line(h.server->requests()[0], "Cookie: session=abc"));
  REQUIRE(h.other->requests().size() == 1);
  CHECK_FALSE(has_header(h.other->requests()[0], "Cookie"));
}

TEST_CASE("the jar's cookies follow their path across hops") {
  RequestHarness h;
  h.server->push({redirect(302, "/b/next", "Set-Cookie: only_a=1; Path=/a\r\nSet-Cookie: all=2; Path=/\r\n")});
  h.server->push({redirect(302, "/a/page")});
  h.server->push({reply(200)});
  h.prepare("GET", "/a/start");
  h.run();
  REQUIRE(h.server->requests().size() == 3);
  CHECK(has_header_line(h.server->requests()[1], "Cookie: all=2"));
  CHECK(has_header_line(h.server->requests()[2], "Cookie: only_a=1; all=2"));
  CHECK(h.client->cookies().size() == 2);
}

TEST_CASE("redirect limits: too many, not followed when not allowed, and a Location that cannot be sent") {
  SUBCASE("too many redirects ends with the last 3xx and says so") {
    RequestHarness h;
    for (int i = 0; i < 3; ++i) h.server->push({redirect(302, "/hop" + std::to_string(i))});
    h.prepare("GET", "/start").redirects_left = 2;
    const Outcome& out = h.run();
    CHECK(out.status == 302);
    CHECK(out.error == "too many redirects");
    CHECK(h.server->requests().size() == 3);
    CHECK(h.request.history().size() == 2);
  }
  SUBCASE("allow_redirects = false hands back the 3xx itself") {
    RequestHarness h;
    h.server->push({redirect(301, "/next")});
    h.prepare("GET", "/start").allow_redirects = false;
    const Outcome& out = h.run();
    CHECK(out.status == 301);
    CHECK(out.error.empty());
    CHECK(h.server->requests().size() == 1);
    CHECK(h.request.history().empty());
  }
  SUBCASE("a Location that is no URL is a bad redirect, never sent") {
    RequestHarness h;
    h.server->push({redirect(302, "http://bad host/next")});
    h.prepare("GET", "/start");
    const Outcome& out = h.run();
    CHECK(out.status == 302);
    CHECK(out.error == "bad redirect");
    CHECK(h.server->requests().size() == 1);
  }
  SUBCASE("a 3xx without Location is the answer") {
    RequestHarness h;
    h.server->push({reply(304)});
    h.prepare("GET", "/start");
    const Outcome& out = h.run();
    CHECK(out.status == 304);
    CHECK(h.server->requests().size() == 1);
  }
}

TEST_CASE("the request's deadline spans its hops and it completes once") {
  RequestHarness h;
  h.server->push({redirect(302, "/slow")});
  ScriptedReply silent;
  silent.never_reply = true;
  h.server->push(silent);
  h.prepare("GET", "/start").limits.timeout_s = 0.2;
  const Outcome& out = h.run();
  CHECK(out.error == "timeout");
  CHECK(h.server->requests().size() == 2);
  CHECK(h.request.history().size() == 1);
}

TEST_CASE("a request reused after the last one starts from the client's defaults") {
  RequestHarness h;
  h.server->push({redirect(303, "/next")});
  h.server->push({reply(200)});
  http::Request& first = h.prepare("POST", "/form");
  first.body = "x";
  first.headers.add("X-One", "1");
  h.run();
  h.server->push({reply(200)});
  h.prepare("GET", "/again");
  CHECK(h.request.method == "GET");
  CHECK(h.request.body.empty());
  CHECK(h.request.history().empty());
  h.run();
  CHECK_FALSE(has_header(h.server->requests().back(), "X-One"));
}
