#pragma once
// Log-linear (HDR-style) latency histogram at microsecond resolution.
//
// Values below 2^kExactBits microseconds get one bucket each (exact). Every octave above,
// [2^k, 2^(k+1)), is split into 2^(kExactBits-1) equal buckets, so a bucket is at most
// 1/512 of its value wide and the bucket midpoint is within 0.1% of any value in it.
// Octaves are allocated on first use, so memory follows the range actually seen.
// Merging two histograms adds their counts, which is how threads and workers combine.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace cicada::stats {

class Histogram {
 public:
  static constexpr int kExactBits = 10;
  static constexpr std::size_t kChunkSize = std::size_t{1} << (kExactBits - 1);  // 512 buckets
  static constexpr int kMaxBits = 40;  // ~12.7 days in µs; larger values land in the top bucket
  static constexpr std::size_t kChunks = 2 + (kMaxBits - kExactBits);
  static constexpr std::size_t kBuckets = kChunks * kChunkSize;

  Histogram() = default;
  Histogram(const Histogram& other);
  Histogram& operator=(const Histogram& other);
  // A moved-from histogram is empty (count 0), so it can go on recording.
  Histogram(Histogram&& other) noexcept;
  Histogram& operator=(Histogram&& other) noexcept;

  void record(std::uint64_t value_us, std::uint64_t count = 1);
  void merge(const Histogram& other);
  void clear();

  std::uint64_t count() const { return total_; }
  // Nearest-rank percentile (p in [0, 1]): the value of the ceil(p * count)-th smallest sample
  // (rank at least 1), reported as the bucket midpoint (exact below 1024 µs). 0 when empty.
  std::uint64_t value_at_percentile(double p) const;

  // Bucket geometry, exposed for serialization and tests.
  static std::size_t bucket_index(std::uint64_t value_us);
  static std::uint64_t bucket_low(std::size_t index);   // smallest value in the bucket
  static std::uint64_t bucket_high(std::size_t index);  // largest value in the bucket
  static std::uint64_t bucket_mid(std::size_t index);

  // Calls fn(index, count) for every non-empty bucket in ascending order of value.
  template <class Fn>
  void for_each_bucket(Fn&& fn) const {
    for (std::size_t c = 0; c < kChunks; ++c) {
      if (!chunks_[c]) continue;
      for (std::size_t i = 0; i < kChunkSize; ++i)
        if (chunks_[c][i]) fn(c * kChunkSize + i, chunks_[c][i]);
    }
  }

  std::size_t memory_bytes() const;

 private:
  std::array<std::unique_ptr<std::uint64_t[]>, kChunks> chunks_{};
  std::uint64_t total_ = 0;
};

}  // namespace cicada::stats
