// The endpoints for the HTTP client's tests: redirects, cookies, compression, basic auth, added
// response headers.

#include <doctest/doctest.h>
#include <llhttp.h>
#include <zlib.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "runtime/target/endpoints.h"

using namespace cicada::target;

namespace {

std::string inflated(std::string_view encoded, int window_bits) {
  z_stream stream{};
  REQUIRE(inflateInit2(&stream, window_bits) == Z_OK);
  std::string plain(64 * 1024, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(encoded.data()));
  stream.avail_in = static_cast<uInt>(encoded.size());
  stream.next_out = reinterpret_cast<Bytef*>(plain.data());
  stream.avail_out = static_cast<uInt>(plain.size());
  const int result = inflate(&stream, Z_FINISH);
  plain.resize(stream.total_out);
  inflateEnd(&stream);
  return result == Z_STREAM_END ? plain : std::string("<inflate failed>");
}

struct Outcome {
  InputError error;
  std::string text;
};

Outcome set_cookie_lines(std::string_view query) {
  Outcome outcome;
  std::string attributes;
  outcome.error = append_set_cookie_lines(outcome.text, attributes, query);
  return outcome;
}

Outcome delete_cookie_lines(std::string_view query) {
  Outcome outcome;
  outcome.error = append_delete_cookie_lines(outcome.text, query);
  return outcome;
}

Outcome redirect_to(std::string_view query, unsigned& status) {
  Outcome outcome;
  outcome.error = append_redirect_to_location(outcome.text, status, query);
  return outcome;
}

// Header fields as a connection stores them, from (lower-case name, value) pairs.
class Headers {
 public:
  Headers(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
    for (const auto& [name, value] : pairs) {
      HeaderField field;
      field.name_offset = static_cast<uint32_t>(storage_.size());
      field.name_length = static_cast<uint32_t>(name.size());
      storage_ += name;
      field.value_offset = static_cast<uint32_t>(storage_.size());
      field.value_length = static_cast<uint32_t>(value.size());
      storage_ += value;
      fields_.push_back(field);
    }
  }
  HeaderFields view() const { return {storage_, fields_}; }

 private:
  std::string storage_;
  std::vector<HeaderField> fields_;
};

std::string cookies_document(std::initializer_list<std::pair<std::string_view, std::string_view>> headers) {
  std::string out;
  append_cookies_document(out, Headers(headers).view());
  return out;
}

std::string repeated(std::string_view pair, size_t count) {
  std::string query;
  for (size_t i = 0; i < count; ++i) query.append(i ? "&" : "").append(pair);
  return query;
}

}  // namespace

TEST_CASE("routes of the HTTP client's endpoints") {
  CHECK(route_path("/redirect/3").endpoint == Endpoint::redirect);
  CHECK(route_path("/redirect/3").number == 3u);
  CHECK_FALSE(route_path("/redirect/x").number);
  CHECK(route_path("/absolute-redirect/0").endpoint == Endpoint::absolute_redirect);
  CHECK(route_path("/absolute-redirect/0").number == 0u);
  CHECK(route_path("/redirect-to").endpoint == Endpoint::redirect_to);
  CHECK(route_path("/redirect-loop").endpoint == Endpoint::redirect_loop);
  CHECK(route_path("/cookies").endpoint == Endpoint::cookies);
  CHECK(route_path("/cookies/set").endpoint == Endpoint::set_cookies);
  CHECK(route_path("/cookies/delete").endpoint == Endpoint::delete_cookies);
  CHECK(route_path("/gzip").endpoint == Endpoint::gzip);
  CHECK(route_path("/gzip/corrupt").endpoint == Endpoint::corrupt_gzip);
  CHECK(route_path("/deflate").endpoint == Endpoint::deflate);
  CHECK(route_path("/response-headers").endpoint == Endpoint::response_headers);
  const Route basic = route_path("/basic-auth/u/p/w");
  CHECK(basic.endpoint == Endpoint::basic_auth);
  CHECK(basic.text == "u/p/w");
  CHECK(route_path("/anything").endpoint == Endpoint::echo);
  CHECK(route_path("/anything/a/b").endpoint == Endpoint::echo);
  for (const char* path : {"/redirect", "/cookies/", "/gzip/", "/basic-auth", "/anythingelse", "/redirect-to/"}) {
    INFO(path);
    CHECK(route_path(path).endpoint == Endpoint::not_found);
  }
  for (const Endpoint endpoint : {Endpoint::redirect_to, Endpoint::set_cookies, Endpoint::basic_auth}) {
    CHECK_FALSE(method_not_allowed(endpoint, HTTP_POST));
    CHECK_FALSE(reads_request_body(endpoint, HTTP_POST));
  }
}

TEST_CASE("compressed documents decode to their plain text") {
  prepare_documents();
  const CompressedDocument& gzip = gzip_document();
  CHECK(gzip.plain.starts_with(R"({"gzipped":true,"encoding":"gzip","items":[{"id":1,)"));
  CHECK(gzip.plain.ends_with("]}"));
  CHECK(gzip.encoded.starts_with("\x1f\x8b\x08"));  // the gzip magic and deflate
  CHECK(gzip.encoded.size() < gzip.plain.size() / 2);
  CHECK(inflated(gzip.encoded, MAX_WBITS + 16) == gzip.plain);
  const CompressedDocument& deflate = deflate_document();
  CHECK(deflate.plain.starts_with(R"({"deflated":true,"encoding":"deflate","items":[)"));
  CHECK(inflated(deflate.encoded, MAX_WBITS) == deflate.plain);
  CHECK(inflated(deflate.encoded, MAX_WBITS + 16) == "<inflate failed>");  // zlib, not gzip
  // Built once: the same bytes on every call.
  CHECK(gzip_document().encoded.data() == gzip.encoded.data());
  CHECK(corrupt_gzip_body().starts_with("\x1f\x8b\x08"));
  CHECK(inflated(corrupt_gzip_body(), MAX_WBITS + 16) == "<inflate failed>");
}

TEST_CASE("redirect locations") {
  std::string line;
  append_redirect_location(line, 4, std::nullopt);
  CHECK(line == "Location: /redirect/4\r\n");
  line.clear();
  append_redirect_location(line, 0, "127.0.0.1:8080");
  CHECK(line == "Location: http://127.0.0.1:8080/absolute-redirect/0\r\n");
}

TEST_CASE("redirect-to: the decoded url, a redirect status") {
  unsigned status = 0;
  Outcome outcome = redirect_to("url=http%3A%2F%2F127.0.0.1%2Fa%3Fb%3D1", status);
  CHECK_FALSE(outcome.error);
  CHECK(outcome.text == "Location: http://127.0.0.1/a?b=1\r\n");
  CHECK(status == 302);
  for (const unsigned code : {301u, 302u, 303u, 307u, 308u}) {
    outcome = redirect_to("status=" + std::to_string(code) + "&url=/x", status);
    CHECK_FALSE(outcome.error);
    CHECK(status == code);
  }
  for (const char* bad : {"", "url=", "status=302", "url=/x&status=200", "url=/x&status=304", "url=/x&status=",
                          "url=/x&status=abc", "url=a%0D%0ASet-Cookie:%20x", "url=a%00", "url=a%0A", "url=a%09b"}) {
    INFO(bad);
    CHECK(redirect_to(bad, status).error);
  }
}

TEST_CASE("set-cookie lines, with attributes") {
  Outcome outcome = set_cookie_lines("name=value&other=v2");
  CHECK_FALSE(outcome.error);
  CHECK(outcome.text == "Set-Cookie: name=value; Path=/\r\nSet-Cookie: other=v2; Path=/\r\n");
  outcome = set_cookie_lines("sid=1&_attrs=Max-Age%3D60%3B%20HttpOnly");
  CHECK(outcome.text == "Set-Cookie: sid=1; Path=/; Max-Age=60; HttpOnly\r\n");
  // _attrs applies to every cookie wherever it stands; empty values and repeated names are kept.
  outcome = set_cookie_lines("_attrs=Secure&a=&a=%21x");
  CHECK(outcome.text == "Set-Cookie: a=; Path=/; Secure\r\nSet-Cookie: a=!x; Path=/; Secure\r\n");
  CHECK(set_cookie_lines("").text.empty());
  CHECK_FALSE(set_cookie_lines(repeated("c=1", kMaxCookiesPerAnswer)).error);
  CHECK(set_cookie_lines(repeated("c=1", kMaxCookiesPerAnswer + 1)).error);
  CHECK(set_cookie_lines("a=1&_attrs=" + std::string(kMaxCookieAttributesBytes + 1, 'x')).error);
  for (const char* bad : {"=v", "a%20b=1", "a;b=1", "a=b%20c", "a=b%3Bc", "a=%22q%22", "a=b,c", "a=%0D%0A",
                          "a=1&_attrs=x%0D%0ASet-Cookie:%20y", "a=1&_attrs=%00"}) {
    INFO(bad);
    CHECK(set_cookie_lines(bad).error);
  }
}

TEST_CASE("delete-cookie lines") {
  Outcome outcome = delete_cookie_lines("name&other=ignored");
  CHECK_FALSE(outcome.error);
  CHECK(outcome.text == "Set-Cookie: name=; Max-Age=0; Path=/\r\nSet-Cookie: other=; Max-Age=0; Path=/\r\n");
  CHECK(delete_cookie_lines("").text.empty());
  CHECK(delete_cookie_lines("a%0Ab").error);
  CHECK(delete_cookie_lines("=x").error);
  CHECK(delete_cookie_lines(repeated("c", kMaxCookiesPerAnswer + 1)).error);
}

TEST_CASE("the cookies document reads every Cookie header") {
  CHECK(cookies_document({}) == R"({"cookies":{}})");
  CHECK(cookies_document({{"cookie", "a=1; b=2"}, {"host", "x"}, {"cookie", "c=3"}}) ==
        R"({"cookies":{"a":"1","b":"2","c":"3"}})");
  // The first of a repeated name; whitespace around pairs trimmed; pairs without '=' skipped.
  CHECK(cookies_document({{"cookie", " a = 1 ;a=2;;flag; =x; q=\"v w\";e="}}) ==
        R"({"cookies":{"a":"1","q":"\"v w\"","e":""}})");
  CHECK(cookies_document({{"cookie", "k=v=w"}}) == R"({"cookies":{"k":"v=w"}})");
}

TEST_CASE("basic credentials") {
  std::string credentials;
  CHECK(append_basic_credentials(credentials, "Basic dXNlcjpwYXNz"));
  CHECK(credentials == "user:pass");
  credentials.clear();
  CHECK(append_basic_credentials(credentials, "  bAsIc   dTpwOnc=  "));
  CHECK(credentials == "u:p:w");
  for (const char* bad : {"", "Basic", "Basic ", "Bearer dXNlcjpwYXNz", "Basicx dXNlcjpwYXNz", "Basic dXNlcjpw!"}) {
    INFO(bad);
    credentials.clear();
    const bool decoded = append_basic_credentials(credentials, bad);
    CHECK((!decoded || credentials.empty()));
  }
}

TEST_CASE("added response headers, repeated names kept") {
  std::string lines;
  std::string document;
  bool sets_content_type = true;
  const std::string_view query = "X-A=1&Set-Cookie=a%3D1&Set-Cookie=b%3D2&X-Empty";
  CHECK_FALSE(append_added_headers(lines, document, sets_content_type, query));
  CHECK(lines == "X-A: 1\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Empty: \r\n");
  CHECK(document == R"([["X-A","1"],["Set-Cookie","a=1"],["Set-Cookie","b=2"],["X-Empty",""]])");
  CHECK_FALSE(sets_content_type);

  lines.clear();
  document.clear();
  CHECK_FALSE(append_added_headers(lines, document, sets_content_type, "content-TYPE=text%2Fplain"));
  CHECK(sets_content_type);
  lines.clear();
  document.clear();
  CHECK_FALSE(append_added_headers(lines, document, sets_content_type, ""));
  CHECK(lines.empty());
  CHECK(document == "[]");

  for (const std::string& bad : std::initializer_list<std::string>{
           "X-A=1%0D%0AX-B:%202", "X-A=%0A", "X-A=%00", "X%20A=1", "X:A=1", "=1", "Content-Length=5",
        "transfer-encoding=chunked", "Connection=close", repeated("X=1", kMaxAddedHeaders + 1)}) {
    INFO(bad);
    lines.clear();
    document.clear();
    CHECK(append_added_headers(lines, document, sets_content_type, bad));
  }
}
