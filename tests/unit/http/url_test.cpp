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

TEST_CASE("redirect locations resolve against the URL they came from") {
  std::string error;
  auto base = parse_url("http://a.test:8080/shop/cart/view?x=1", &error);
  REQUIRE(base);
  auto resolve = [&](std::string_view location) {
    auto url = resolve_reference(*base, location, &error);
    return url ? to_string(*url) : "error: " + error;
  };
  CHECK(resolve("https://b.test/login") == "https://b.test/login");
  CHECK(resolve("//c.test:81/x") == "http://c.test:81/x");
  CHECK(resolve("/top?y=2") == "http://a.test:8080/top?y=2");
  CHECK(resolve("?y=2") == "http://a.test:8080/shop/cart/view?y=2");
  CHECK(resolve("checkout") == "http://a.test:8080/shop/cart/checkout");
  CHECK(resolve("../home") == "http://a.test:8080/shop/home");
  CHECK(resolve("./") == "http://a.test:8080/shop/cart/");
  CHECK(resolve("../../../../up") == "http://a.test:8080/up");
  CHECK(resolve("next#frag") == "http://a.test:8080/shop/cart/next");
  CHECK(resolve("mailto:x@y").starts_with("error: redirect to an unsupported scheme"));
}

TEST_CASE("query components are percent-encoded") {
  std::string out;
  append_query_encoded(out, "a b&c=d/é~_.-");
  CHECK(out == "a%20b%26c%3Dd%2F%C3%A9~_.-");
}

TEST_CASE("requests carry Host, User-Agent, Accept, Accept-Encoding and Content-Length; caller headers win") {
  std::string out;
  HeaderBlock headers;
  CHECK(headers.add("X-Trace", "1"));
  ComposeInput post;
  post.method = "POST";
  post.target = "/login";
  post.host_header = "127.0.0.1:8080";
  post.user_agent = "cicada/test";
  post.body = "{\"a\":1}";
  post.content_type = "application/json";
  post.cookie = "sid=1";
  compose_request(out, post, headers);
  CHECK(out ==
        "POST /login HTTP/1.1\r\nX-Trace: 1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: cicada/test\r\nAccept: */*\r\n"
        "Accept-Encoding: gzip, deflate\r\nCookie: sid=1\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n"
        "{\"a\":1}");

  HeaderBlock overrides;
  CHECK(overrides.add("host", "other"));
  CHECK(overrides.add("User-Agent", "me"));
  CHECK(overrides.add("Cookie", "mine=1"));
  ComposeInput get;
  get.method = "GET";
  get.target = "/";
  get.host_header = "127.0.0.1";
  get.user_agent = "cicada/test";
  get.cookie = "jar=1";
  get.accept_encoding = false;
  compose_request(out, get, overrides);
  CHECK(out == "GET / HTTP/1.1\r\nhost: other\r\nUser-Agent: me\r\nCookie: mine=1\r\nAccept: */*\r\n\r\n");

  ComposeInput empty_post = post;
  empty_post.body = "";
  empty_post.cookie = "";
  compose_request(out, empty_post, HeaderBlock{});
  CHECK(out.find("Content-Length: 0\r\n") != std::string::npos);
  CHECK(out.find("Content-Type") == std::string::npos);
}

TEST_CASE("header blocks refuse injection and can drop a header") {
  HeaderBlock headers;
  CHECK_FALSE(headers.add("X-A", "1\r\nEvil: yes"));
  CHECK_FALSE(headers.add("Bad Name", "1"));
  CHECK_FALSE(headers.add("", "1"));
  CHECK_FALSE(headers.add("X-B", std::string("a\0b", 3)));
  CHECK(headers.add("Authorization", "Basic x"));
  CHECK(headers.add("X-Keep", "1"));
  CHECK(headers.has(HeaderBlock::kAuthorization));
  headers.remove("authorization");
  CHECK_FALSE(headers.has(HeaderBlock::kAuthorization));
  CHECK(headers.lines() == "X-Keep: 1\r\n");
}

TEST_CASE("request targets are encoded as python-requests does, and control characters refused") {
  auto encoded = [](std::string target) {
    REQUIRE(encode_request_target(target));
    return target;
  };
  CHECK(encoded("/api/title/The godfather/1972") == "/api/title/The%20godfather/1972");
  CHECK(encoded("/items?id=7&sort=name") == "/items?id=7&sort=name");  // nothing to do
  CHECK(encoded("/a%20b/%7e?q=%C3%A9") == "/a%20b/%7e?q=%C3%A9");      // escapes kept
  CHECK(encoded("/100%/x%zz%4") == "/100%25/x%25zz%254");              // a '%' that starts no escape
  CHECK(encoded("/caf\xc3\xa9?q=\"<>{}|\\^`") == "/caf%C3%A9?q=%22%3C%3E%7B%7D%7C%5C%5E%60");
  CHECK(encoded("/keep/!$&'()*+,;=:@[]~-._/?x=/?") == "/keep/!$&'()*+,;=:@[]~-._/?x=/?");
  CHECK(encoded("/page#section") == "/page");  // fragments are never sent
  for (std::string bad : {std::string("/p HTTP/1.1\r\nX-Injected: yes\r\n"), std::string("/nul\0x", 6),
                          std::string("/tab\there"), std::string("/del\x7f")}) {
    std::string target = bad;
    CHECK_FALSE(encode_request_target(target));
    CHECK(target == bad);
  }
}

TEST_CASE("hosts with spaces, control characters or delimiters are refused") {
  std::string error;
  CHECK_FALSE(parse_url("http://exa mple.com/", &error));
  CHECK_FALSE(parse_url("http://example.com\r\nX-Injected: 1/", &error));
  CHECK(error.find("invalid character in the host") != std::string::npos);
  CHECK(parse_url("http://example.com:8080/a b", &error));
  // Found by fuzzing: a second ':' made "a:b" the host, a URL whose text did not parse again.
  CHECK_FALSE(parse_url("http://a:b:80/", &error));
  CHECK_FALSE(parse_url("HTTP://:)ac:/x", &error));
  CHECK_FALSE(parse_url("http://[::1%eth0]:80/", &error));
  CHECK(parse_url("http://[::1]:80/", &error));
  CHECK(parse_url("http://my-host_1.example:80/", &error));
}
