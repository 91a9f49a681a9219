#include "runtime/stats/stats_book.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using cicada::stats::EntryKey;
using cicada::stats::EntryStats;
using cicada::stats::FailureKey;
using cicada::stats::Histogram;
using cicada::stats::StatsBook;

namespace {

std::vector<std::pair<std::size_t, std::uint64_t>> buckets_of(const Histogram& h) {
  std::vector<std::pair<std::size_t, std::uint64_t>> out;
  h.for_each_bucket([&](std::size_t index, std::uint64_t count) { out.emplace_back(index, count); });
  return out;
}

void check_same_entry(const EntryStats& a, const EntryStats& b) {
  CHECK(a.num_requests == b.num_requests);
  CHECK(a.num_failures == b.num_failures);
  CHECK(a.total_response_us == b.total_response_us);
  CHECK(a.min_response_us == b.min_response_us);
  CHECK(a.max_response_us == b.max_response_us);
  CHECK(a.total_content_length == b.total_content_length);
  CHECK(buckets_of(a.histogram) == buckets_of(b.histogram));
}

void check_same_book(const StatsBook& a, const StatsBook& b) {
  const auto entries_a = a.sorted_entries();
  const auto entries_b = b.sorted_entries();
  REQUIRE(entries_a.size() == entries_b.size());
  for (std::size_t i = 0; i < entries_a.size(); ++i) {
    CAPTURE(entries_a[i].first.method);
    CAPTURE(entries_a[i].first.name);
    CHECK(entries_a[i].first == entries_b[i].first);
    check_same_entry(*entries_a[i].second, *entries_b[i].second);
  }
  check_same_entry(a.total(), b.total());
  CHECK(a.failures() == b.failures());
  REQUIRE(a.exceptions().size() == b.exceptions().size());
  for (const auto& [key, record] : a.exceptions()) {
    const auto it = b.exceptions().find(key);
    REQUIRE(it != b.exceptions().end());
    CHECK(it->second.message == record.message);
    CHECK(it->second.traceback == record.traceback);
    CHECK(it->second.count == record.count);
  }
}

}  // namespace

TEST_CASE("entry stats: derived values in milliseconds") {
  EntryStats e;
  CHECK(e.empty());
  CHECK(e.avg_ms() == 0.0);
  CHECK(e.min_ms() == 0.0);
  CHECK(e.max_ms() == 0.0);
  CHECK(e.median_ms() == 0.0);
  CHECK(e.percentile_ms(0.95) == 0.0);
  CHECK(e.avg_content_length() == 0.0);
  CHECK(e.fail_ratio() == 0.0);

  e.record(450, 100, false);
  e.record(1250, 300, true);
  e.record(800, 200, false);
  CHECK_FALSE(e.empty());
  CHECK(e.num_requests == 3);
  CHECK(e.num_failures == 1);
  CHECK(e.total_response_us == 2500);
  CHECK(e.avg_ms() == doctest::Approx(2500 / 3.0 / 1000.0));
  CHECK(e.min_ms() == 0.45);
  CHECK(e.max_ms() == 1.25);
  CHECK(e.median_ms() == 0.8);  // below 1024 us percentiles are exact
  CHECK(e.avg_content_length() == 200.0);
  CHECK(e.fail_ratio() == doctest::Approx(1 / 3.0));
  CHECK(e.percentile_ms(0.0) == 0.45);
  CHECK(e.percentile_ms(1.0) == 1.25);  // the max itself, not its bucket's midpoint
}

TEST_CASE("entry stats: percentiles are clamped to [min, max]") {
  // 2^20 us starts a 2048-wide bucket whose midpoint is 1023 us above the only sample.
  const std::uint64_t lone = std::uint64_t{1} << 20;
  EntryStats slow;
  slow.record(lone, 0, false);
  REQUIRE(slow.histogram.value_at_percentile(0.5) > lone);
  CHECK(slow.median_ms() == 1048.576);
  CHECK(slow.median_ms() <= slow.max_ms());
  for (double p : {0.5, 0.9, 0.99, 0.999}) CHECK(slow.percentile_ms(p) == 1048.576);

  // ... and a sample at the top of such a bucket is above its midpoint, so the clamp to min bites.
  const std::uint64_t high = lone + 2047;
  EntryStats late;
  late.record(high, 0, false);
  REQUIRE(late.histogram.value_at_percentile(0.5) < high);
  CHECK(late.median_ms() == static_cast<double>(high) / 1000.0);
}

TEST_CASE("entry stats: merge adds everything and keeps min and max") {
  EntryStats a, b, all;
  for (std::uint64_t us : {300, 5000, 70000}) {
    a.record(us, us / 10, us == 5000);
    all.record(us, us / 10, us == 5000);
  }
  for (std::uint64_t us : {90, 2'000'000}) {
    b.record(us, 1, true);
    all.record(us, 1, true);
  }
  EntryStats merged;
  merged.merge(a);
  merged.merge(b);
  check_same_entry(merged, all);
  CHECK(merged.min_response_us == 90);
  CHECK(merged.max_response_us == 2'000'000);

  EntryStats empty;
  a.merge(empty);
  CHECK(a.min_response_us == 300);  // merging an empty entry keeps min
}

TEST_CASE("stats book: successes and failures") {
  StatsBook book;
  CHECK(book.empty());
  book.record_request("GET", "/items", 1500, 512, "");
  book.record_request("GET", "/items", 2500, 256, "HTTP 500");
  book.record_request("GET", "/items", 3500, 0, "HTTP 500");
  book.record_request("POST", "/items", 9000, 10, "connect refused");
  CHECK_FALSE(book.empty());

  const EntryStats* get = book.find("GET", "/items");
  REQUIRE(get != nullptr);
  // Like Locust, a failed request is still a request, and its time is still recorded.
  CHECK(get->num_requests == 3);
  CHECK(get->num_failures == 2);
  CHECK(get->histogram.count() == 3);
  CHECK(get->total_response_us == 7500);
  CHECK(get->max_response_us == 3500);
  CHECK(get->total_content_length == 768);

  const EntryStats* post = book.find("POST", "/items");
  REQUIRE(post != nullptr);
  CHECK(post->num_requests == 1);
  CHECK(post->num_failures == 1);
  CHECK(book.find("PUT", "/items") == nullptr);
  CHECK(book.find("GET", "/other") == nullptr);

  CHECK(book.total().num_requests == 4);
  CHECK(book.total().num_failures == 3);
  CHECK(book.total().histogram.count() == 4);
  CHECK(book.total().total_response_us == 16500);

  const std::map<FailureKey, std::uint64_t> expected_failures = {
      {FailureKey{"GET", "/items", "HTTP 500"}, 2},
      {FailureKey{"POST", "/items", "connect refused"}, 1},
  };
  CHECK(book.failures() == expected_failures);
}

TEST_CASE("stats book: method and name are kept apart in the key") {
  StatsBook book;
  book.record_request("GET", "X/a", 1, 0, "");
  book.record_request("GETX", "/a", 2, 0, "");
  book.record_request("", "GET/a", 3, 0, "");
  CHECK(book.sorted_entries().size() == 3);
  CHECK(book.find("GET", "X/a")->max_response_us == 1);
  CHECK(book.find("GETX", "/a")->max_response_us == 2);
  CHECK(book.find("", "GET/a")->max_response_us == 3);
}

TEST_CASE("stats book: repeated, alternating and moved-away entries land where they belong") {
  // The book remembers the last entry to skip hashing; nothing may be recorded into a stale one.
  StatsBook book;
  book.record_request("GET", "/a", 1, 0, "");
  book.record_request("GET", "/a", 2, 0, "");
  book.record_request("POST", "/a", 3, 0, "");
  book.record_request("GET", "/a", 4, 0, "");
  book.record_request("GET", "/b", 5, 0, "");
  CHECK(book.find("GET", "/a")->num_requests == 3);
  CHECK(book.find("POST", "/a")->num_requests == 1);
  CHECK(book.find("GET", "/b")->num_requests == 1);

  StatsBook moved(std::move(book));  // `book` is cleared, its last entry forgotten
  book.record_request("GET", "/b", 6, 0, "");
  moved.record_request("GET", "/b", 7, 0, "");
  CHECK(book.find("GET", "/b")->num_requests == 1);
  CHECK(moved.find("GET", "/b")->num_requests == 2);

  StatsBook copy(moved);
  copy.record_request("GET", "/b", 8, 0, "");
  CHECK(moved.find("GET", "/b")->num_requests == 2);
  CHECK(copy.find("GET", "/b")->num_requests == 3);

  StatsBook assigned;
  assigned.record_request("GET", "/b", 9, 0, "");
  assigned = std::move(copy);
  assigned.record_request("GET", "/b", 10, 0, "");
  CHECK(assigned.find("GET", "/b")->num_requests == 4);
  CHECK(copy.sorted_entries().empty());

  moved.clear();
  moved.record_request("GET", "/b", 11, 0, "");
  CHECK(moved.find("GET", "/b")->num_requests == 1);
  CHECK(moved.total().num_requests == 1);
}

TEST_CASE("stats book: entries sorted by name, then method") {
  StatsBook book;
  book.record_request("POST", "/b", 1, 0, "");
  book.record_request("POST", "/a", 1, 0, "");
  book.record_request("GET", "/b", 1, 0, "");
  book.record_request("GET", "/a", 1, 0, "");
  book.record_request("DELETE", "/c", 1, 0, "");
  std::vector<EntryKey> keys;
  for (const auto& [key, stats] : book.sorted_entries()) {
    keys.push_back(key);
    CHECK(stats == book.find(key.method, key.name));
  }
  const std::vector<EntryKey> expected = {
      {"GET", "/a"}, {"POST", "/a"}, {"GET", "/b"}, {"POST", "/b"}, {"DELETE", "/c"}};
  CHECK(keys == expected);

  int visited = 0;
  book.for_each_entry([&](const EntryKey& key, const EntryStats& stats) {
    ++visited;
    CHECK(&stats == book.find(key.method, key.name));
  });
  CHECK(visited == 5);
}

TEST_CASE("stats book: exceptions grouped by message and traceback") {
  StatsBook book;
  book.record_exception("boom", "stack traceback:\n\tshop.lua:10");
  book.record_exception("boom", "stack traceback:\n\tshop.lua:10");
  book.record_exception("boom", "stack traceback:\n\tshop.lua:20");
  book.record_exception("bang", "stack traceback:\n\tshop.lua:10");
  CHECK_FALSE(book.empty());
  CHECK(book.total().num_requests == 0);
  REQUIRE(book.exceptions().size() == 3);
  const auto& first = book.exceptions().at("boom\nstack traceback:\n\tshop.lua:10");
  CHECK(first.message == "boom");
  CHECK(first.traceback == "stack traceback:\n\tshop.lua:10");
  CHECK(first.count == 2);
  CHECK(book.exceptions().at("boom\nstack traceback:\n\tshop.lua:20").count == 1);
  CHECK(book.exceptions().at("bang\nstack traceback:\n\tshop.lua:10").count == 1);
}

TEST_CASE("stats book: books recorded by two threads merge into what one book would hold") {
  struct Request {
    const char* method;
    const char* name;
    std::uint64_t us;
    std::uint64_t bytes;
    const char* error;
  };
  const char* const names[] = {"/", "/items", "/items/[id]", "/login"};
  const char* const errors[] = {"", "", "", "", "HTTP 500", "timeout"};
  std::vector<Request> requests;
  std::mt19937_64 rng(99);
  for (int i = 0; i < 20000; ++i) {
    requests.push_back(Request{i % 3 == 0 ? "POST" : "GET", names[rng() % 4], rng() % 5'000'000, rng() % 4096,
                               errors[rng() % 6]});
  }

  auto record_range = [&](StatsBook& book, std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      const Request& r = requests[i];
      book.record_request(r.method, r.name, r.us, r.bytes, r.error);
      if (i % 1000 == 0) book.record_exception("oops " + std::to_string(i % 3), "trace");
    }
  };

  StatsBook first_thread_book, second_thread_book, single;
  std::thread first_thread([&] { record_range(first_thread_book, 0, 12000); });
  std::thread second_thread([&] { record_range(second_thread_book, 12000, requests.size()); });
  first_thread.join();
  second_thread.join();
  record_range(single, 0, requests.size());

  StatsBook merged;
  merged.merge(first_thread_book);
  merged.merge(second_thread_book);
  check_same_book(merged, single);
  CHECK(merged.total().num_requests == requests.size());

  // Merge order does not matter.
  StatsBook reversed;
  reversed.merge(second_thread_book);
  reversed.merge(first_thread_book);
  check_same_book(reversed, single);
}

TEST_CASE("stats book: merging a book into itself doubles it") {
  StatsBook book;
  book.record_request("GET", "/", 100, 1, "");
  book.record_request("GET", "/", 200, 1, "bad");
  book.record_exception("m", "t");
  book.merge(book);
  CHECK(book.find("GET", "/")->num_requests == 4);
  CHECK(book.total().num_failures == 2);
  CHECK(book.failures().at(FailureKey{"GET", "/", "bad"}) == 2);
  CHECK(book.exceptions().at("m\nt").count == 2);
}

TEST_CASE("stats book: clear, copy and move") {
  StatsBook book;
  book.record_request("GET", "/", 100, 1, "reset");
  book.record_exception("m", "t");

  StatsBook copy = book;
  check_same_book(copy, book);

  // The hand-over a worker does each second: move the book out, keep recording into it.
  StatsBook handed_over = std::move(book);
  CHECK(handed_over.total().num_requests == 1);
  CHECK(book.empty());  // NOLINT(bugprone-use-after-move): moved-from books are specified empty
  CHECK(book.total().num_requests == 0);
  CHECK(book.total().histogram.count() == 0);
  book.record_request("GET", "/", 300, 1, "");
  CHECK(book.total().num_requests == 1);
  CHECK(book.find("GET", "/")->num_requests == 1);
  CHECK(handed_over.find("GET", "/")->num_requests == 1);

  StatsBook assigned;
  assigned = std::move(handed_over);
  CHECK(assigned.failures().size() == 1);
  CHECK(handed_over.empty());  // NOLINT(bugprone-use-after-move)

  assigned.clear();
  CHECK(assigned.empty());
  CHECK(assigned.sorted_entries().empty());
  CHECK(assigned.total().min_response_us == UINT64_MAX);
}

TEST_CASE("stats book: the open model keeps service times beside the corrected response times") {
  StatsBook book;
  book.record_request("GET", "/", 900'000, 1, "", 1'000);  // waited 899 ms to start
  book.record_request("GET", "/", 2'000, 1, "", 2'000);    // on time
  book.record_request("GET", "/", 3'000, 1, "");           // no service time (closed model)
  const EntryStats& total = book.total();
  CHECK(total.num_requests == 3);
  CHECK(total.max_ms() == doctest::Approx(900));
  CHECK(total.service.count == 2);
  CHECK(total.service.max_ms() == doctest::Approx(2));
  CHECK(total.service.min_ms() == doctest::Approx(1));
  CHECK(total.service.avg_ms() == doctest::Approx(1.5));
  CHECK(total.service.percentile_ms(1.0) == doctest::Approx(2));

  book.count_iteration_started();
  book.count_iteration_started();
  book.count_iterations_dropped(5);
  StatsBook other;
  other.merge(book);
  other.merge(book);
  CHECK(other.iterations_started() == 4);
  CHECK(other.iterations_dropped() == 10);
  CHECK(other.total().service.count == 4);
  StatsBook moved(std::move(other));
  CHECK(moved.iterations_dropped() == 10);
  CHECK(other.iterations_dropped() == 0);  // NOLINT(bugprone-use-after-move): a moved-from book is empty
  CHECK(other.empty());
}
