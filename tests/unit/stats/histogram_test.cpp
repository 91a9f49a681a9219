#include "runtime/stats/histogram.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

using cicada::stats::Histogram;

namespace {

using Buckets = std::vector<std::pair<std::size_t, std::uint64_t>>;

Buckets buckets_of(const Histogram& h) {
  Buckets out;
  h.for_each_bucket([&](std::size_t index, std::uint64_t count) { out.emplace_back(index, count); });
  return out;
}

// Exact nearest rank for p = per_10000 / 10000, in integers so it can't share a rounding
// mistake with the implementation.
std::uint64_t nearest_rank(std::uint64_t per_10000, std::uint64_t count) {
  const std::uint64_t rank = (per_10000 * count + 9999) / 10000;
  return std::clamp<std::uint64_t>(rank, 1, count);
}

std::uint64_t pow2(int k) { return std::uint64_t{1} << k; }

// Log-uniform values from 1 µs to ~1000 s: every octave gets about the same number of samples.
std::vector<std::uint64_t> log_uniform_samples(std::uint64_t seed, std::size_t n) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> exponent(0.0, std::log(1e9));
  std::vector<std::uint64_t> values(n);
  for (auto& v : values) v = static_cast<std::uint64_t>(std::exp(exponent(rng)));
  return values;
}

}  // namespace

TEST_CASE("histogram: an empty histogram reports zero and holds no buckets") {
  Histogram h;
  CHECK(h.count() == 0);
  CHECK(h.value_at_percentile(0.0) == 0);
  CHECK(h.value_at_percentile(0.5) == 0);
  CHECK(h.value_at_percentile(1.0) == 0);
  CHECK(buckets_of(h).empty());
  CHECK(h.memory_bytes() == sizeof(Histogram));
}

TEST_CASE("histogram: every value below 1024 us has its own bucket") {
  for (std::uint64_t v = 0; v < 1024; ++v) {
    const std::size_t index = Histogram::bucket_index(v);
    REQUIRE(index == v);
    REQUIRE(Histogram::bucket_low(index) == v);
    REQUIRE(Histogram::bucket_high(index) == v);
    REQUIRE(Histogram::bucket_mid(index) == v);
    Histogram single;
    single.record(v);
    REQUIRE(single.value_at_percentile(0.0) == v);
    REQUIRE(single.value_at_percentile(0.5) == v);
    REQUIRE(single.value_at_percentile(1.0) == v);
  }

  // One sample of each value 0..1023: the k-th smallest is k - 1, exactly.
  Histogram all;
  for (std::uint64_t v = 0; v < 1024; ++v) all.record(v);
  CHECK(all.count() == 1024);
  for (std::uint64_t k = 1; k <= 1024; ++k)
    REQUIRE(all.value_at_percentile(static_cast<double>(k) / 1024.0) == k - 1);
}

TEST_CASE("histogram: buckets tile the whole range without gaps and stay narrow") {
  CHECK(Histogram::bucket_low(0) == 0);
  for (std::size_t index = 0; index < Histogram::kBuckets; ++index) {
    const std::uint64_t low = Histogram::bucket_low(index);
    const std::uint64_t high = Histogram::bucket_high(index);
    REQUIRE(low <= high);
    REQUIRE(Histogram::bucket_index(low) == index);
    REQUIRE(Histogram::bucket_index(high) == index);
    const std::uint64_t mid = Histogram::bucket_mid(index);
    REQUIRE(low <= mid);
    REQUIRE(mid <= high);
    if (index + 1 < Histogram::kBuckets) REQUIRE(Histogram::bucket_low(index + 1) == high + 1);
    // Width at most 1/512 of the value, so the midpoint is within 0.1% of anything inside.
    if (low >= 1024) {
      REQUIRE((high - low + 1) * 512 <= low);
      REQUIRE(static_cast<double>(high - mid) <= 0.001 * static_cast<double>(low));
      REQUIRE(static_cast<double>(mid - low) <= 0.001 * static_cast<double>(low));
    }
  }
  CHECK(Histogram::bucket_high(Histogram::kBuckets - 1) == pow2(Histogram::kMaxBits) - 1);
}

TEST_CASE("histogram: boundary values") {
  CHECK(Histogram::bucket_index(0) == 0);
  CHECK(Histogram::bucket_index(1023) == 1023);
  CHECK(Histogram::bucket_index(1024) == 1024);
  CHECK(Histogram::bucket_index(1025) == 1024);  // [1024, 1025] share a two-wide bucket
  CHECK(Histogram::bucket_index(1026) == 1025);
  CHECK(Histogram::bucket_low(1024) == 1024);
  CHECK(Histogram::bucket_high(1024) == 1025);
  CHECK(Histogram::bucket_index(2047) == 1535);
  CHECK(Histogram::bucket_index(2048) == 1536);

  for (int k = 11; k < Histogram::kMaxBits; ++k) {
    CAPTURE(k);
    const std::uint64_t start = pow2(k);
    // 2^k starts a new octave and a new chunk of 512 buckets.
    CHECK(Histogram::bucket_index(start) % Histogram::kChunkSize == 0);
    CHECK(Histogram::bucket_index(start) == Histogram::bucket_index(start - 1) + 1);
    CHECK(Histogram::bucket_low(Histogram::bucket_index(start)) == start);
    CHECK(Histogram::bucket_high(Histogram::bucket_index(start - 1)) == start - 1);
    CHECK(Histogram::bucket_index(start + 1) == Histogram::bucket_index(start));

    Histogram h;
    h.record(start - 1);
    h.record(start);
    h.record(start + 1);
    const auto near = [](std::uint64_t got, std::uint64_t want) {
      return std::fabs(static_cast<double>(got) - static_cast<double>(want)) <= 0.001 * static_cast<double>(want);
    };
    CHECK(near(h.value_at_percentile(0.0), start - 1));
    CHECK(near(h.value_at_percentile(0.5), start));
    CHECK(near(h.value_at_percentile(1.0), start + 1));
  }

  // At and above 2^40 everything lands in the top bucket instead of overflowing.
  const std::size_t top = Histogram::kBuckets - 1;
  CHECK(Histogram::bucket_index(pow2(Histogram::kMaxBits) - 1) == top);
  CHECK(Histogram::bucket_index(pow2(Histogram::kMaxBits)) == top);
  CHECK(Histogram::bucket_index(pow2(50)) == top);
  CHECK(Histogram::bucket_index(UINT64_MAX) == top);
  Histogram huge;
  huge.record(UINT64_MAX);
  huge.record(pow2(45));
  CHECK(huge.count() == 2);
  CHECK(huge.value_at_percentile(1.0) == Histogram::bucket_mid(top));
  CHECK(buckets_of(huge) == Buckets{{top, 2}});
}

TEST_CASE("histogram: percentiles over many octaves are within 0.1% of the exact nearest rank") {
  std::vector<std::uint64_t> values = log_uniform_samples(20240611, 200000);
  Histogram h;
  for (std::uint64_t v : values) h.record(v);
  std::sort(values.begin(), values.end());
  REQUIRE(values.front() < 1024);
  REQUIRE(values.back() > pow2(29));
  REQUIRE(h.count() == values.size());

  for (std::uint64_t per_10000 : {0ULL, 1ULL, 100ULL, 2500ULL, 5000ULL, 6600ULL, 7500ULL, 8000ULL, 9000ULL, 9500ULL,
                                  9800ULL, 9900ULL, 9990ULL, 9999ULL, 10000ULL}) {
    CAPTURE(per_10000);
    const std::uint64_t exact = values[nearest_rank(per_10000, values.size()) - 1];
    const std::uint64_t got = h.value_at_percentile(static_cast<double>(per_10000) / 10000.0);
    if (exact < 1024) {
      CHECK(got == exact);
    } else {
      CHECK(std::fabs(static_cast<double>(got) - static_cast<double>(exact)) <= 0.001 * static_cast<double>(exact));
    }
  }

  // Every rank, not just the reported ones, on a smaller sample.
  std::vector<std::uint64_t> small = log_uniform_samples(7, 2000);
  Histogram hs;
  for (std::uint64_t v : small) hs.record(v);
  std::sort(small.begin(), small.end());
  for (std::size_t rank = 1; rank <= small.size(); ++rank) {
    const std::uint64_t exact = small[rank - 1];
    const double p = static_cast<double>(rank) / static_cast<double>(small.size());
    const std::uint64_t got = hs.value_at_percentile(p);
    REQUIRE(std::fabs(static_cast<double>(got) - static_cast<double>(exact)) <= 0.001 * static_cast<double>(exact));
  }
}

TEST_CASE("histogram: a decimal percentile is not pushed to the next rank by floating point") {
  // 0.07 * 100 is 7.000000000000001 in doubles; the 7th smallest of 1..100 is 7.
  Histogram h;
  for (std::uint64_t v = 1; v <= 100; ++v) h.record(v);
  CHECK(h.value_at_percentile(0.07) == 7);
  CHECK(h.value_at_percentile(0.5) == 50);
  CHECK(h.value_at_percentile(0.501) == 51);
  CHECK(h.value_at_percentile(0.99) == 99);
  CHECK(h.value_at_percentile(0.999) == 100);
  CHECK(h.value_at_percentile(0.0) == 1);
  CHECK(h.value_at_percentile(1.0) == 100);
  CHECK(h.value_at_percentile(-1.0) == 1);
  CHECK(h.value_at_percentile(2.0) == 100);
}

TEST_CASE("histogram: counts greater than one") {
  Histogram h;
  h.record(10, 3);
  h.record(20, 1);
  h.record(30, 0);  // no-op
  CHECK(h.count() == 4);
  CHECK(h.value_at_percentile(0.75) == 10);
  CHECK(h.value_at_percentile(0.76) == 20);
  CHECK(buckets_of(h) == Buckets{{10, 3}, {20, 1}});
}

TEST_CASE("histogram: merging two histograms equals recording everything into one") {
  const std::vector<std::uint64_t> first = log_uniform_samples(1, 50000);
  const std::vector<std::uint64_t> second = log_uniform_samples(2, 30000);
  Histogram a, b, all;
  for (std::uint64_t v : first) {
    a.record(v);
    all.record(v);
  }
  for (std::uint64_t v : second) {
    b.record(v);
    all.record(v);
  }
  b.record(UINT64_MAX);
  all.record(UINT64_MAX);

  Histogram merged = a;
  merged.merge(b);
  CHECK(merged.count() == all.count());
  CHECK(buckets_of(merged) == buckets_of(all));
  for (double p : {0.0, 0.5, 0.9, 0.99, 0.999, 1.0}) CHECK(merged.value_at_percentile(p) == all.value_at_percentile(p));
  CHECK(merged.memory_bytes() == all.memory_bytes());

  // Merging into an empty histogram copies; merging with itself doubles.
  Histogram empty;
  empty.merge(a);
  CHECK(buckets_of(empty) == buckets_of(a));
  Histogram twice = a;
  twice.merge(twice);
  CHECK(twice.count() == 2 * a.count());
  Buckets doubled = buckets_of(a);
  for (auto& bucket : doubled) bucket.second *= 2;
  CHECK(buckets_of(twice) == doubled);
}

TEST_CASE("histogram: memory follows the range seen") {
  SUBCASE("1 us to 10 s") {
    Histogram h;
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> exponent(0.0, std::log(1e7));
    for (int i = 0; i < 100000; ++i) h.record(static_cast<std::uint64_t>(std::exp(exponent(rng))));
    h.record(1);
    h.record(10'000'000);
    CHECK(h.memory_bytes() < 150 * 1024);
  }
  SUBCASE("one octave is one chunk") {
    Histogram h;
    for (std::uint64_t v = pow2(20); v < pow2(21); v += 97) h.record(v);
    CHECK(h.memory_bytes() == sizeof(Histogram) + Histogram::kChunkSize * sizeof(std::uint64_t));
  }
  SUBCASE("the exact range below 1024 is two chunks") {
    Histogram h;
    for (std::uint64_t v = 0; v < 1024; ++v) h.record(v);
    CHECK(h.memory_bytes() == sizeof(Histogram) + 2 * Histogram::kChunkSize * sizeof(std::uint64_t));
  }
  SUBCASE("clear gives the memory back") {
    Histogram h;
    h.record(5);
    h.record(5'000'000);
    h.clear();
    CHECK(h.count() == 0);
    CHECK(h.memory_bytes() == sizeof(Histogram));
    CHECK(h.value_at_percentile(0.5) == 0);
  }
}

TEST_CASE("histogram: copies are deep and moved-from histograms are empty") {
  Histogram original;
  original.record(100);
  original.record(100'000);

  Histogram copy(original);
  copy.record(7);
  CHECK(original.count() == 2);
  CHECK(copy.count() == 3);
  CHECK(buckets_of(original).size() == 2);

  Histogram assigned;
  assigned.record(1);
  assigned = original;
  CHECK(buckets_of(assigned) == buckets_of(original));

  Histogram moved(std::move(copy));
  CHECK(moved.count() == 3);
  CHECK(copy.count() == 0);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  CHECK(buckets_of(copy).empty());
  copy.record(9);  // still usable
  CHECK(copy.value_at_percentile(1.0) == 9);

  Histogram move_assigned;
  move_assigned = std::move(moved);
  CHECK(move_assigned.count() == 3);
  CHECK(moved.count() == 0);  // NOLINT(bugprone-use-after-move)
}
