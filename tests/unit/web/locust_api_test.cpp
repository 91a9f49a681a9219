#include <doctest/doctest.h>

#include "runtime/web/locust_api.h"
#include "runtime/web/prometheus.h"

using namespace cicada;

TEST_CASE("a form body is decoded as browsers and curl -d encode it") {
  const web::FormFields fields = web::parse_form("user_count=10&host=http%3A%2F%2F127.0.0.1%3A8080&name=a+b&&flag");
  REQUIRE(fields.size() == 4);
  CHECK(fields[0] == std::pair<std::string, std::string>{"user_count", "10"});
  CHECK(fields[1].second == "http://127.0.0.1:8080");
  CHECK(fields[2].second == "a b");
  CHECK(fields[3] == std::pair<std::string, std::string>{"flag", ""});
}

TEST_CASE("POST /swarm's fields become a load request, or the first bad field's message") {
  const web::SwarmForm good = web::read_swarm_form(web::parse_form(
      "user_count=25&spawn_rate=2.5&host=http://h:1&run_time=1h20m&user_classes=A&user_classes=B&tags=x"));
  CHECK(good.error.empty());
  CHECK(good.load.users == 25);
  CHECK(*good.load.spawn_rate == doctest::Approx(2.5));
  CHECK(*good.load.host == "http://h:1");
  CHECK(*good.load.run_time_s == doctest::Approx(4800));
  CHECK(good.load.user_classes == std::vector<std::string>{"A", "B"});

  const web::SwarmForm empty_optional = web::read_swarm_form(web::parse_form("user_count=0&spawn_rate=1&host=&run_time="));
  CHECK(empty_optional.error.empty());
  CHECK_FALSE(empty_optional.load.host);
  CHECK_FALSE(empty_optional.load.run_time_s);

  CHECK(web::read_swarm_form(web::parse_form("spawn_rate=1")).error == "user_count is required");
  CHECK(web::read_swarm_form(web::parse_form("user_count=1")).error == "spawn_rate is required");
  CHECK(web::read_swarm_form(web::parse_form("user_count=1.5&spawn_rate=1")).error.find("whole number") != std::string::npos);
  CHECK(web::read_swarm_form(web::parse_form("user_count=1&spawn_rate=-2")).error.find("spawn_rate") == 0);
  CHECK(web::read_swarm_form(web::parse_form("user_count=1&spawn_rate=1&run_time=later")).error.find("run_time") == 0);
}

TEST_CASE("the outcome documents have Locust's shape") {
  CHECK(web::outcome_json(true, "Test stopped") == R"({"success":true,"message":"Test stopped"})");
  CHECK(web::outcome_json(true, "Swarming started", R"("host":"http://h")") ==
        R"({"success":true,"message":"Swarming started","host":"http://h"})");
}

TEST_CASE("metric labels escape what the text format must") {
  stats::RunStats run;
  stats::StatsBook delta;
  delta.record_request("GET", "/a\"b\\c\nd", 1500, 10, "");
  delta.record_request("GET", "/a\"b\\c\nd", 2'000'000, 10, "boom");
  run.merge_delta(delta);
  control::RunSnapshot snapshot;
  snapshot.stats = &run;
  const std::string text = web::prometheus_metrics(snapshot);
  CHECK(text.find(R"(cicada_requests_total{method="GET",name="/a\"b\\c\nd"} 2)") != std::string::npos);
  CHECK(text.find(R"(cicada_request_failures_total{method="GET",name="/a\"b\\c\nd"} 1)") != std::string::npos);
  // 1.5 ms is within 0.0025 s, 2 s is not within 1 s but within 2.5 s.
  CHECK(text.find(R"(le="0.001"} 0)") != std::string::npos);
  CHECK(text.find(R"(le="0.0025"} 1)") != std::string::npos);
  CHECK(text.find(R"(le="1"} 1)") != std::string::npos);
  CHECK(text.find(R"(le="2.5"} 2)") != std::string::npos);
  CHECK(text.find(R"(le="+Inf"} 2)") != std::string::npos);
  CHECK(text.find("cicada_request_duration_seconds_sum{method=\"GET\",name=\"/a\\\"b\\\\c\\nd\"} 2.0015") != std::string::npos);
  CHECK(text.find(R"(cicada_run_state{state="ready"} 1)") != std::string::npos);
}
