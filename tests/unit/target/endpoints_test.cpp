#include <doctest/doctest.h>
#include <llhttp.h>

#include <set>
#include <string>

#include "runtime/target/endpoints.h"

using namespace cicada::target;

namespace {

std::string url_decoded(std::string_view text, UrlPart part) {
  std::string out;
  append_url_decoded(out, text, part);
  return out;
}

std::string search_document(std::string_view query) {
  std::string out;
  append_search_document(out, query);
  return out;
}

}  // namespace

TEST_CASE("request targets split into path and query") {
  CHECK(split_request_target("/items?x=1#frag").path == "/items");
  CHECK(split_request_target("/items?x=1#frag").query == "x=1");
  CHECK(split_request_target("http://host:8080/echo?a").path == "/echo");
  CHECK(split_request_target("http://host:8080").path == "/");
  CHECK(split_request_target("?q=1").path == "/");
  CHECK(split_request_target("/plain").query.empty());
}

TEST_CASE("exact paths, with the monitoring paths in both slash forms") {
  CHECK(route_path("/").endpoint == Endpoint::root);
  CHECK(route_path("/json").endpoint == Endpoint::fixed_json);
  CHECK(route_path("/json").text.starts_with(R"({"name":"cicada target")"));
  CHECK(route_path("/status").text == R"({"status":"ok"})");
  for (const char* path : {"/health/", "/health"}) CHECK(route_path(path).text == R"({"status":"healthy"})");
  CHECK(route_path("/system/metrics").text == route_path("/system/metrics/").text);
  CHECK(route_path("/analysis/").text == route_path("/analysis").text);
  CHECK(route_path("/lmcache/status").text == route_path("/lmcache/status/").text);
  CHECK(route_path("/optimize/run").endpoint == Endpoint::optimize);
  CHECK(route_path("/optimize/run/").endpoint == Endpoint::optimize);
  CHECK(route_path("/api/validate-key").endpoint == Endpoint::validate_key);
  CHECK(route_path("/api/jobs").endpoint == Endpoint::jobs);
  CHECK(route_path("/api/templates").endpoint == Endpoint::fixed_json);
  CHECK(route_path("/api/admin/stats").endpoint == Endpoint::admin_stats);
  CHECK(route_path("/api/search").endpoint == Endpoint::search);
  for (const char* path : {"/nope", "/json/", "/STATUS", "/health//", "/api", "/api/", "/proxy", "/api/title/"}) {
    INFO(path);
    CHECK(route_path(path).endpoint == Endpoint::not_found);
  }
}

TEST_CASE("numbered paths carry their number, or none when it is not a plain number") {
  const Route status = route_path("/status/418");
  CHECK(status.endpoint == Endpoint::status);
  CHECK(status.number == 418u);
  CHECK(route_path("/status/").endpoint == Endpoint::status);
  CHECK_FALSE(route_path("/status/").number);
  CHECK_FALSE(route_path("/items/1/x").number);
  CHECK(route_path("/api/id/7").endpoint == Endpoint::movie);
  CHECK(route_path("/api/id/7").number == 7u);
  CHECK(route_path("/api/jobs/12").endpoint == Endpoint::job);
  CHECK_FALSE(route_path("/api/jobs/abc").number);
  CHECK(route_path("/proxy/fail/503").endpoint == Endpoint::proxy_failure);
  CHECK(route_path("/proxy/fail/503").number == 503u);
}

TEST_CASE("proxy paths keep the proxied path with its slash") {
  CHECK(route_path("/proxy/v1/models").endpoint == Endpoint::proxy);
  CHECK(route_path("/proxy/v1/models").text == "/v1/models");
  CHECK(route_path("/proxy/").text == "/");
  CHECK(route_path("/proxy/failure").endpoint == Endpoint::proxy);
  CHECK(route_path("/proxy/fail").text == "/fail");
}

TEST_CASE("title paths split at the last slash") {
  const Route route = route_path("/api/title/The%20Matrix/1999");
  CHECK(route.endpoint == Endpoint::movie_by_title);
  CHECK(route.text == "The%20Matrix");
  CHECK(route.number == 1999u);
  CHECK(route_path("/api/title/AC/DC/2001").text == "AC/DC");
  CHECK_FALSE(route_path("/api/title/x/").number);
  CHECK_FALSE(route_path("/api/title/x/19x9").number);
  CHECK(route_path("/api/title/1999").endpoint == Endpoint::not_found);
  CHECK(route_path("/api/title//1999").endpoint == Endpoint::not_found);
}

TEST_CASE("method rules: the acting endpoints refuse other methods, HEAD goes with GET") {
  for (const Endpoint endpoint : {Endpoint::login, Endpoint::validate_key, Endpoint::optimize}) {
    CHECK_FALSE(method_not_allowed(endpoint, HTTP_POST));
    CHECK(method_not_allowed(endpoint, HTTP_GET) == "Allow: POST\r\n");
    CHECK(method_not_allowed(endpoint, HTTP_HEAD) == "Allow: POST\r\n");
  }
  for (const auto method : {HTTP_GET, HTTP_HEAD, HTTP_POST}) CHECK_FALSE(method_not_allowed(Endpoint::jobs, method));
  CHECK(method_not_allowed(Endpoint::jobs, HTTP_DELETE) == "Allow: GET, HEAD, POST\r\n");
  for (const auto method : {HTTP_GET, HTTP_HEAD, HTTP_DELETE}) CHECK_FALSE(method_not_allowed(Endpoint::job, method));
  CHECK(method_not_allowed(Endpoint::job, HTTP_PUT) == "Allow: GET, HEAD, DELETE\r\n");
  for (const auto method : {HTTP_GET, HTTP_POST, HTTP_PATCH, HTTP_OPTIONS}) {
    CHECK_FALSE(method_not_allowed(Endpoint::proxy, method));
    CHECK_FALSE(method_not_allowed(Endpoint::fixed_json, method));
    CHECK_FALSE(method_not_allowed(Endpoint::echo, method));
  }
}

TEST_CASE("bodies are kept only where an endpoint reads them") {
  CHECK(reads_request_body(Endpoint::echo, HTTP_GET));
  CHECK(reads_request_body(Endpoint::login, HTTP_POST));
  CHECK(reads_request_body(Endpoint::validate_key, HTTP_POST));
  CHECK(reads_request_body(Endpoint::jobs, HTTP_POST));
  CHECK_FALSE(reads_request_body(Endpoint::jobs, HTTP_GET));
  CHECK_FALSE(reads_request_body(Endpoint::login, HTTP_GET));
  CHECK_FALSE(reads_request_body(Endpoint::proxy, HTTP_POST));
  CHECK_FALSE(reads_request_body(Endpoint::root, HTTP_POST));
}

TEST_CASE("numbered documents exist for their ids only") {
  CHECK(item_document(1) == R"({"id":1,"name":"item 1","price":81.18})");
  CHECK(item_document(0).empty());
  CHECK(item_document(kItemCount + 1).empty());
  CHECK(movie_document(1) == R"({"id":1,"title":"Movie 1","year":1959})");
  CHECK_FALSE(movie_document(kMovieCount).empty());
  CHECK(movie_document(kMovieCount + 1).empty());
  CHECK(job_document(1) == R"({"id":1,"name":"nightly build #1","status":"queued"})");
  CHECK_FALSE(job_document(kJobCount).empty());
  CHECK(job_document(kJobCount + 1).empty());
  CHECK(items_document().starts_with(std::string("[") + std::string(item_document(1)) + ","));
  CHECK(items_document().ends_with(std::string(",") + std::string(item_document(kItemCount)) + "]"));
  CHECK(jobs_document().ends_with(std::string(",") + std::string(job_document(kListedJobCount)) + "]"));
}

TEST_CASE("movie years stay in range") {
  std::set<uint64_t> years;
  for (uint64_t id = 1; id <= kMovieCount; ++id) {
    const std::string_view document = movie_document(id);
    const size_t year_at = document.find(R"("year":)");
    REQUIRE(year_at != std::string_view::npos);
    const uint64_t year = std::stoull(std::string(document.substr(year_at + 7, 4)));
    CHECK(year >= kMinMovieYear);
    CHECK(year <= kMaxMovieYear);
    years.insert(year);
  }
  CHECK(years.size() > 100);  // spread out, not one year for all
}

TEST_CASE("title ids are deterministic and in range") {
  CHECK(movie_id_for_title("The Matrix", 1999) == 759u);
  CHECK(movie_id_for_title("The Matrix", 1999) == movie_id_for_title("The Matrix", 1999));
  CHECK(movie_id_for_title("The Matrix", 1999) != movie_id_for_title("The Matrix", 2003));
  for (uint64_t year = kMinMovieYear; year <= kMaxMovieYear; ++year) {
    const uint64_t id = movie_id_for_title("", year);
    CHECK(id >= 1);
    CHECK(id <= kMovieCount);
  }
}

TEST_CASE("API keys") {
  CHECK(is_valid_api_key("sk-abc"));
  CHECK(is_valid_api_key("sk-"));
  CHECK_FALSE(is_valid_api_key(""));
  CHECK_FALSE(is_valid_api_key("SK-abc"));
  CHECK_FALSE(is_valid_api_key("pk-abc"));
  CHECK_FALSE(is_valid_api_key(" sk-abc"));
}

TEST_CASE("search matches the listed jobs' names ignoring case") {
  CHECK(search_document("BUILD") ==
        R"({"query":"BUILD","results":[{"id":1,"name":"nightly build #1","status":"queued"},)"
        R"({"id":11,"name":"nightly build #11","status":"succeeded"}]})");
  CHECK(search_document("no such job") == R"({"query":"no such job","results":[]})");
  CHECK(search_document("#20").find(R"("id":20)") != std::string::npos);
  CHECK(search_document("#21").ends_with(R"("results":[]})"));  // only the listed jobs are searched
  const std::string everything = search_document("");
  CHECK(everything == R"({"query":"","results":)" + std::string(jobs_document()) + "}");
  CHECK(search_document("a\"b").starts_with(R"({"query":"a\"b")"));
}

TEST_CASE("query values: the last of a repeated key, still encoded") {
  CHECK(find_query_value("q=a%20b&x=1", "q") == "a%20b");
  CHECK(find_query_value("q=1&q=2", "q") == "2");
  CHECK(find_query_value("q", "q") == "");
  CHECK(find_query_value("&&q=&", "q") == "");
  CHECK_FALSE(find_query_value("qq=1&xq=2", "q"));
  CHECK_FALSE(find_query_value("", "q"));
}

TEST_CASE("URL decoding: '+' is a space in a query only, stray '%' stays") {
  CHECK(url_decoded("a+b%20c%2Fd", UrlPart::query) == "a b c/d");
  CHECK(url_decoded("a+b%20c%2fd", UrlPart::path) == "a+b c/d");
  CHECK(url_decoded("%E2%98%83", UrlPart::path) == "\xE2\x98\x83");
  CHECK(url_decoded("100%", UrlPart::query) == "100%");
  CHECK(url_decoded("%4", UrlPart::query) == "%4");
  CHECK(url_decoded("%zz%41", UrlPart::query) == "%zzA");
  CHECK(url_decoded("%00", UrlPart::query) == std::string("\0", 1));
}

TEST_CASE("generated bytes continue the alphabet across slices") {
  std::string whole;
  append_generated_bytes(whole, 0, 100);
  std::string sliced;
  append_generated_bytes(sliced, 0, 30);
  append_generated_bytes(sliced, 30, 70);
  CHECK(sliced == whole);
  CHECK(whole.substr(0, 28) == "abcdefghijklmnopqrstuvwxyzab");
}
