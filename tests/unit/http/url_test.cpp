#include <doctest/doctest.h>

#include "runtime/http/request_writer.h"
#include "runtime/http/url.h"

using namespace cicada::http;

TEST_CASE("absolute URLs are split into scheme, host, port and path") {
  std::string error;
  auto url = parse_url("http://127.0.0.1:8080/items?x=1#frag", &error);
  REQUIRE(url);
  CHECK(url->scheme == "http");
  CHECK(url->host == "127.0.0.1");
  CHECK(url->port == 8080);
  CHECK(url->path == "/items?x=1");
  CHECK(url->host_header() == "127.0.0.1:8080");

  auto plain = parse_url("HTTP://Example.COM", &error);
  REQUIRE(plain);
  CHECK(plain->host == "example.com");
  CHECK(plain->port == 80);
  CHECK(plain->path == "/");
  CHECK(plain->host_header() == "example.com");

  auto v6 = parse_url("http://[::1]:9000/a", &error);
  REQUIRE(v6);
  CHECK(v6->ipv6_literal);
  CHECK(v6->host == "::1");
  CHECK(v6->host_header() == "[::1]:9000");

  auto tls = parse_url("https://h/", &error);
  REQUIRE(tls);
  CHECK(tls->is_tls());
  CHECK(tls->port == 443);

  auto query_only = parse_url("http://h?q=1", &error);
  REQUIRE(query_only);
  CHECK(query_only->path == "/?q=1");
}

TEST_CASE("malformed URLs are refused with a reason") {
  std::string error;
  CHECK_FALSE(parse_url("ftp://h/", &error));
  CHECK(error.find("http://") != std::string::npos);
  CHECK_FALSE(parse_url("http://:80/", &error));
  CHECK_FALSE(parse_url("http://h:99999/", &error));
  CHECK_FALSE(parse_url("http://h:x/", &error));
  CHECK_FALSE(parse_url("http://[::1/", &error));
  CHECK_FALSE(parse_url("http://u:p@h/", &error));
  CHECK(is_absolute_url("HTTPS://x"));
  CHECK_FALSE(is_absolute_url("/x"));
}

TEST_CASE("paths join the base path the way Locust concatenates host and path") {
  std::string out;
  join_target(out, "/", "/items");
  CHECK(out == "/items");
  join_target(out, "/api", "/items");
  CHECK(out == "/api/items");
  join_target(out, "/api/", "/items");
  CHECK(out == "/api/items");
  join_target(out, "/", "items");
  CHECK(out == "/items");
  join_target(out, "/", "");
  CHECK(out == "/");
  join_target(out, "/", "?q=1");
  CHECK(out == "/?q=1");
}

TEST_CASE("query components are percent-encoded") {
  std::string out;
  append_query_encoded(out, "a b&c=d/é~_.-");
  CHECK(out == "a%20b%26c%3Dd%2F%C3%A9~_.-");
}

TEST_CASE("requests carry Host, User-Agent, Accept and Content-Length, and caller headers win") {
  std::string out;
  RequestWriter writer(out);
  writer.start("POST", "/login");
  CHECK(writer.header("X-Trace", "1"));
  writer.finish("127.0.0.1:8080", "cicada/test", "{\"a\":1}", "application/json");
  CHECK(out ==
        "POST /login HTTP/1.1\r\nX-Trace: 1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: cicada/test\r\nAccept: */*\r\n"
        "Content-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}");

  RequestWriter get(out);
  get.start("GET", "/");
  CHECK(get.header("host", "other"));
  CHECK(get.header("User-Agent", "me"));
  get.finish("127.0.0.1", "cicada/test", "", "");
  CHECK(out == "GET / HTTP/1.1\r\nhost: other\r\nUser-Agent: me\r\nAccept: */*\r\n\r\n");

  RequestWriter empty_post(out);
  empty_post.start("POST", "/x");
  empty_post.finish("h", "ua", "", "");
  CHECK(out.find("Content-Length: 0\r\n") != std::string::npos);
}

TEST_CASE("header injection is refused") {
  std::string out;
  RequestWriter writer(out);
  writer.start("GET", "/");
  CHECK_FALSE(writer.header("X-A", "1\r\nEvil: yes"));
  CHECK_FALSE(writer.header("Bad Name", "1"));
  CHECK_FALSE(writer.header("", "1"));
  CHECK_FALSE(writer.header("X-B", std::string("a\0b", 3)));
}
