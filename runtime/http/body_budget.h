#pragma once
// A run-wide budget for response bodies held in memory, shared by every worker thread.
//
// Each body's first kFreeBytes cost nothing here: most bodies are small, and counting them
// would put a shared atomic on every request. Bytes beyond that are taken from the budget a
// MiB at a time, so that a few hundred users each receiving an endless body cannot hold
// gigabytes between them (each body alone is bounded by max_body, 16 MiB by default). Once the
// budget is spent, bodies that no request asked to keep (with its own max_body) are counted and
// discarded; a warning says so once.
#include <cstdint>

namespace cicada::http {

class BodyBudget {
 public:
  static constexpr std::uint64_t kFreeBytes = 256u << 10;
  static constexpr std::uint64_t kStep = 1u << 20;
  static constexpr std::uint64_t kDefaultLimit = 512ull << 20;

  // 0: no budget. Set before the workers start.
  static void set_limit(std::uint64_t bytes);
  static std::uint64_t limit();
  // Takes `bytes` (a multiple of kStep); false, with nothing taken, when that would pass the limit.
  static bool take(std::uint64_t bytes);
  static void give_back(std::uint64_t bytes);
  // True the first time the budget ran out (for the warning).
  static bool first_overrun();
};

}  // namespace cicada::http
