#include <doctest/doctest.h>

#include "runtime/dist/locust_protocol.h"

using namespace cicada;

TEST_CASE("response times are rounded as Locust rounds them") {
  CHECK(dist::locust_rounded_ms(0.4) == 0);
  CHECK(dist::locust_rounded_ms(0.5) == 0);  // Python's round: halves to even
  CHECK(dist::locust_rounded_ms(1.5) == 2);
  CHECK(dist::locust_rounded_ms(99.4) == 99);
  CHECK(dist::locust_rounded_ms(147) == 150);
  CHECK(dist::locust_rounded_ms(145) == 140);
  CHECK(dist::locust_rounded_ms(3432) == 3400);
  CHECK(dist::locust_rounded_ms(58760) == 59000);
}

TEST_CASE("a message is [type, data, node_id]; anything else is refused without throwing") {
  const std::string bytes = dist::encode_message("client_ready", "host_0123", [](auto& packer) { packer.pack(-1); });
  std::string error;
  const auto message = dist::decode_message(bytes, &error);
  REQUIRE(message);
  CHECK(message->type == "client_ready");
  CHECK(message->node_id == "host_0123");
  CHECK(message->data().as<int>() == -1);

  for (const std::string& bad : {std::string("\xc1"), std::string("\x92\xa1\x61\xc0"), std::string("\x93\x01\xc0\xa1\x61"),
                                 bytes + "x", std::string()}) {
    CHECK_FALSE(dist::decode_message(bad, &error));
    CHECK_FALSE(error.empty());
  }
}

TEST_CASE("spawn orders are read with Locust's field names") {
  const std::string bytes = dist::encode_message("spawn", "", [](auto& packer) {
    packer.pack_map(5);
    packer.pack(std::string("timestamp"));
    packer.pack(1765000000.25);
    packer.pack(std::string("user_classes_count"));
    packer.pack(std::map<std::string, int>{{"Web", 3}, {"Api", 0}});
    packer.pack(std::string("host"));
    packer.pack(std::string("http://127.0.0.1:8080"));
    packer.pack(std::string("stop_timeout"));
    packer.pack_nil();
    packer.pack(std::string("parsed_options"));
    packer.pack_map(0);
  });
  std::string error;
  const auto message = dist::decode_message(bytes, &error);
  REQUIRE(message);
  const auto order = dist::read_spawn(message->data(), &error);
  REQUIRE(order);
  CHECK(order->timestamp == doctest::Approx(1765000000.25));
  CHECK(order->user_classes_count == std::map<std::string, int>{{"Api", 0}, {"Web", 3}});
  CHECK(order->host == "http://127.0.0.1:8080");
  CHECK_FALSE(order->stop_timeout_s);

  const std::string negative = dist::encode_message("spawn", "", [](auto& packer) {
    packer.pack_map(2);
    packer.pack(std::string("timestamp"));
    packer.pack(1);
    packer.pack(std::string("user_classes_count"));
    packer.pack(std::map<std::string, int>{{"Web", -3}});
  });
  CHECK_FALSE(dist::read_spawn(dist::decode_message(negative, &error)->data(), &error));
}

TEST_CASE("a stats report has Locust's shape, with the exact histogram beside it") {
  stats::StatsBook book;
  book.record_request("GET", "/items", 147'000, 10, "");
  book.record_request("GET", "/items", 3'000, 10, "");
  book.record_request("GET", "/fail", 1'000, 0, "HTTP 500");
  dist::ReportDelta delta;
  delta.book = &book;
  delta.per_second_total = {{1765000000, {3, 1}}};
  delta.per_second[{"GET", "/items"}] = {{1765000000, {2, 0}}};
  delta.user_classes_count = {{"Web", 2}};
  delta.user_count = 2;
  const std::string bytes =
      dist::encode_message("stats", "w", [&delta](auto& packer) { dist::pack_stats_report(packer, delta); });
  std::string error;
  const auto message = dist::decode_message(bytes, &error);
  REQUIRE(message);
  const auto report = message->data().as<std::map<std::string, msgpack::object>>();
  const auto entries = report.at("stats").as<std::vector<std::map<std::string, msgpack::object>>>();
  REQUIRE(entries.size() == 2);
  const auto& items = entries[1];  // sorted by name: /fail, /items
  CHECK(items.at("name").as<std::string>() == "/items");
  CHECK(items.at("num_requests").as<int>() == 2);
  CHECK(items.at("response_times").as<std::map<int, int>>() == std::map<int, int>{{3, 1}, {150, 1}});
  CHECK(items.at("num_reqs_per_sec").as<std::map<long, int>>() == std::map<long, int>{{1765000000, 2}});
  CHECK(items.at("num_fail_per_sec").as<std::map<long, int>>().empty());
  CHECK(items.at("total_response_time").as<double>() == doctest::Approx(150.0));
  const auto total = report.at("stats_total").as<std::map<std::string, msgpack::object>>();
  CHECK(total.at("name").as<std::string>() == "Aggregated");
  CHECK(total.at("method").is_nil());
  CHECK(total.at("num_failures").as<int>() == 1);
  const auto errors = report.at("errors").as<std::map<std::string, std::map<std::string, msgpack::object>>>();
  REQUIRE(errors.size() == 1);
  CHECK(errors.begin()->second.at("occurrences").as<int>() == 1);
  CHECK(errors.begin()->second.at("error").as<std::string>() == "HTTP 500");
  CHECK(report.at("user_count").as<int>() == 2);
}
