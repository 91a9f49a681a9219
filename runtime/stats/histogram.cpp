#include "runtime/stats/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <utility>

namespace cicada::stats {

namespace {

constexpr std::uint64_t kExactLimit = std::uint64_t{1} << Histogram::kExactBits;  // 1024
constexpr std::uint64_t kClampLimit = std::uint64_t{1} << Histogram::kMaxBits;
// Buckets below kExactLimit are one value wide and fill the first two chunks.
constexpr std::size_t kExactChunks = kExactLimit / Histogram::kChunkSize;
static_assert(kExactChunks == 2, "kChunks assumes the exact range fills two chunks");

// Nearest rank of percentile p among `count` samples, in [1, count].
std::uint64_t nearest_rank(double p, std::uint64_t count) {
  if (!(p > 0.0)) return 1;  // also catches NaN
  if (p >= 1.0) return count;
  const double target = p * static_cast<double>(count);
  // p is usually a short decimal (0.95, 0.999) that has no exact binary form, so p * count can
  // land a hair above the integer it means (0.07 * 100 = 7.000000000000001); without the
  // tolerance ceil would pick the next rank.
  const double rank = std::ceil(target - target * 1e-12);
  if (rank < 1.0) return 1;
  if (rank >= static_cast<double>(count)) return count;
  return static_cast<std::uint64_t>(rank);
}

}  // namespace

Histogram::Histogram(const Histogram& other) : total_(other.total_) {
  for (std::size_t c = 0; c < kChunks; ++c) {
    if (!other.chunks_[c]) continue;
    chunks_[c] = std::make_unique<std::uint64_t[]>(kChunkSize);
    std::copy_n(other.chunks_[c].get(), kChunkSize, chunks_[c].get());
  }
}

Histogram& Histogram::operator=(const Histogram& other) {
  if (this != &other) {
    Histogram copy(other);
    *this = std::move(copy);
  }
  return *this;
}

Histogram::Histogram(Histogram&& other) noexcept
    : chunks_(std::move(other.chunks_)), total_(std::exchange(other.total_, 0)) {}

Histogram& Histogram::operator=(Histogram&& other) noexcept {
  if (this != &other) {
    chunks_ = std::move(other.chunks_);
    total_ = std::exchange(other.total_, 0);
  }
  return *this;
}

std::size_t Histogram::bucket_index(std::uint64_t value_us) {
  if (value_us < kExactLimit) return static_cast<std::size_t>(value_us);
  if (value_us >= kClampLimit) return kBuckets - 1;
  const int octave = std::bit_width(value_us) - 1;  // value in [2^octave, 2^(octave+1))
  const int shift = octave - (kExactBits - 1);      // bucket width is 2^shift
  // value >> shift lies in [kChunkSize, 2 * kChunkSize): the in-octave offset plus one chunk,
  // which is exactly the offset of this octave's chunk past the first exact chunk.
  return static_cast<std::size_t>(shift) * kChunkSize + static_cast<std::size_t>(value_us >> shift);
}

std::uint64_t Histogram::bucket_low(std::size_t index) {
  index = std::min(index, kBuckets - 1);
  if (index < kExactLimit) return index;
  const std::size_t chunk = index / kChunkSize;
  const std::size_t offset = index % kChunkSize;
  const std::size_t shift = chunk - 1;
  return static_cast<std::uint64_t>(kChunkSize + offset) << shift;
}

std::uint64_t Histogram::bucket_high(std::size_t index) {
  index = std::min(index, kBuckets - 1);
  if (index < kExactLimit) return index;
  const std::size_t shift = index / kChunkSize - 1;
  return bucket_low(index) + (std::uint64_t{1} << shift) - 1;
}

std::uint64_t Histogram::bucket_mid(std::size_t index) {
  const std::uint64_t low = bucket_low(index);
  return low + (bucket_high(index) - low) / 2;
}

void Histogram::record(std::uint64_t value_us, std::uint64_t count) {
  if (count == 0) return;
  const std::size_t index = bucket_index(value_us);
  auto& chunk = chunks_[index / kChunkSize];
  if (!chunk) chunk = std::make_unique<std::uint64_t[]>(kChunkSize);  // zero-initialized
  chunk[index % kChunkSize] += count;
  total_ += count;
}

void Histogram::merge(const Histogram& other) {
  if (this == &other) {
    Histogram copy(other);
    merge(copy);
    return;
  }
  for (std::size_t c = 0; c < kChunks; ++c) {
    if (!other.chunks_[c]) continue;
    if (!chunks_[c]) chunks_[c] = std::make_unique<std::uint64_t[]>(kChunkSize);
    for (std::size_t i = 0; i < kChunkSize; ++i) chunks_[c][i] += other.chunks_[c][i];
  }
  total_ += other.total_;
}

void Histogram::clear() {
  for (auto& chunk : chunks_) chunk.reset();
  total_ = 0;
}

std::uint64_t Histogram::value_at_percentile(double p) const {
  if (total_ == 0) return 0;
  const std::uint64_t rank = nearest_rank(p, total_);
  std::uint64_t seen = 0;
  for (std::size_t c = 0; c < kChunks; ++c) {
    if (!chunks_[c]) continue;
    for (std::size_t i = 0; i < kChunkSize; ++i) {
      seen += chunks_[c][i];
      if (seen >= rank) return bucket_mid(c * kChunkSize + i);
    }
  }
  return bucket_mid(kBuckets - 1);  // unreachable while total_ matches the buckets
}

std::size_t Histogram::memory_bytes() const {
  std::size_t bytes = sizeof(*this);
  for (const auto& chunk : chunks_)
    if (chunk) bytes += kChunkSize * sizeof(std::uint64_t);
  return bytes;
}

}  // namespace cicada::stats
