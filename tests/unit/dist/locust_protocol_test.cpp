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

  // Headers that claim more elements or depth than a message can hold are refused before
  // anything is allocated for them.
  for (const std::string& huge : {std::string("\xdd\xff\xff\xff\xff", 5), std::string("\xdf\x7f\xff\xff\xff", 5),
                                  std::string("\xdb\xff\xff\xff\xf0", 5), std::string(100, '\x91')}) {
    CHECK_FALSE(dist::decode_message(huge, &error));
    CHECK_FALSE(error.empty());
  }
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

TEST_CASE("a master reads a cicada worker's report back exactly") {
  stats::StatsBook book;
  for (std::uint64_t us : {150, 999, 1'001, 7'345, 147'000, 3'000'000}) book.record_request("GET", "/items", us, 10, "");
  book.record_request("POST", "/fail", 2'500, 0, "HTTP 500");
  book.record_in_flight_at_stop("GET", "/items", 40'000);
  dist::ReportDelta delta;
  delta.book = &book;
  delta.user_count = 3;
  const std::string bytes =
      dist::encode_message("stats", "w", [&delta](auto& packer) { dist::pack_stats_report(packer, delta); });
  std::string error;
  const auto message = dist::decode_message(bytes, &error);
  REQUIRE(message);
  stats::StatsBook read;
  int users = 0;
  REQUIRE(dist::read_stats_report(message->data(), &read, &users, &error));
  CHECK(users == 3);
  const stats::EntryStats* items = read.find("GET", "/items");
  REQUIRE(items);
  const stats::EntryStats& original = *book.find("GET", "/items");
  CHECK(items->num_requests == 6);
  CHECK(items->total_response_us == original.total_response_us);
  CHECK(items->min_response_us == 150);
  CHECK(items->max_response_us == 3'000'000);
  // Bucket for bucket: every percentile is the original's.
  for (double p : {0.1, 0.5, 0.66, 0.9, 0.99, 1.0}) CHECK(items->percentile_ms(p) == original.percentile_ms(p));
  CHECK(read.total().num_requests == 7);
  CHECK(read.total().num_failures == 1);
  CHECK(read.failures().at({"POST", "/fail", "HTTP 500"}) == 1);
  CHECK(read.in_flight_at_stop().at({"GET", "/items"}).count == 1);
}

TEST_CASE("a Locust worker's report is read from its rounded times; a bad report counts for nothing") {
  const auto report = [](msgpack::packer<msgpack::sbuffer>& packer, int requests, bool bad_second_entry) {
    packer.pack_map(3);
    packer.pack(std::string("stats"));
    packer.pack_array(2);
    for (int i = 0; i < 2; ++i) {
      packer.pack_map(8);
      packer.pack(std::string("name"));
      packer.pack(std::string(i == 0 ? "/a" : "/b"));
      packer.pack(std::string("method"));
      packer.pack(std::string("GET"));
      packer.pack(std::string("num_requests"));
      if (i == 1 && bad_second_entry) {
        packer.pack(-1);
      } else {
        packer.pack(requests);
      }
      packer.pack(std::string("num_failures"));
      packer.pack(0);
      packer.pack(std::string("total_response_time"));
      packer.pack(12.5 * requests);
      packer.pack(std::string("max_response_time"));
      packer.pack(20.0);
      packer.pack(std::string("total_content_length"));
      packer.pack(0);
      packer.pack(std::string("response_times"));
      packer.pack(std::map<double, int>{{5, requests - 1}, {20, 1}});
    }
    packer.pack(std::string("errors"));
    packer.pack_map(0);
    packer.pack(std::string("user_count"));
    packer.pack(1);
  };
  std::string error;
  stats::StatsBook read;
  int users = 0;
  const std::string good = dist::encode_message("stats", "w", [&](auto& packer) { report(packer, 4, false); });
  REQUIRE(dist::read_stats_report(dist::decode_message(good, &error)->data(), &read, &users, &error));
  CHECK(read.find("GET", "/a")->num_requests == 4);
  CHECK(read.find("GET", "/a")->percentile_ms(0.5) == doctest::Approx(5.0).epsilon(0.002));  // a bucket: 0.2% wide
  CHECK(read.find("GET", "/a")->min_response_us == 5000);  // not sent: the smallest time it holds
  const std::string bad = dist::encode_message("stats", "w", [&](auto& packer) { report(packer, 4, true); });
  CHECK_FALSE(dist::read_stats_report(dist::decode_message(bad, &error)->data(), &read, &users, &error));
  CHECK(error.find("'/b'") != std::string::npos);
  CHECK(read.find("GET", "/a")->num_requests == 4);  // the first entry of the bad report was not counted
  CHECK(read.total().num_requests == 8);
}
