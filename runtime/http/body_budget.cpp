#include "runtime/http/body_budget.h"

#include <atomic>

namespace cicada::http {

namespace {

std::atomic<std::uint64_t> limit_bytes{BodyBudget::kDefaultLimit};
std::atomic<std::uint64_t> held_bytes{0};
std::atomic<bool> overrun_seen{false};

}  // namespace

void BodyBudget::set_limit(std::uint64_t bytes) { limit_bytes.store(bytes, std::memory_order_relaxed); }

std::uint64_t BodyBudget::limit() { return limit_bytes.load(std::memory_order_relaxed); }

bool BodyBudget::take(std::uint64_t bytes) {
  const std::uint64_t limit = limit_bytes.load(std::memory_order_relaxed);
  const std::uint64_t before = held_bytes.fetch_add(bytes, std::memory_order_relaxed);
  if (limit == 0 || before + bytes <= limit) return true;
  held_bytes.fetch_sub(bytes, std::memory_order_relaxed);
  return false;
}

void BodyBudget::give_back(std::uint64_t bytes) { held_bytes.fetch_sub(bytes, std::memory_order_relaxed); }

bool BodyBudget::first_overrun() { return !overrun_seen.exchange(true, std::memory_order_relaxed); }

}  // namespace cicada::http
