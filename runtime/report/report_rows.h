#pragma once
// The order every report lists failures and exceptions in: most frequent first, ties in key
// order, as the console's Error report does.
#include <cstdint>
#include <utility>
#include <vector>

#include "runtime/stats/stats_book.h"

namespace cicada::report {

std::vector<std::pair<const stats::FailureKey*, std::uint64_t>> failures_by_count(const stats::StatsBook& book);
std::vector<const stats::ExceptionRecord*> exceptions_by_count(const stats::StatsBook& book);

}  // namespace cicada::report
