#include "runtime/report/report_rows.h"

#include <algorithm>

namespace cicada::report {

std::vector<std::pair<const stats::FailureKey*, std::uint64_t>> failures_by_count(const stats::StatsBook& book) {
  std::vector<std::pair<const stats::FailureKey*, std::uint64_t>> rows;
  rows.reserve(book.failures().size());
  for (const auto& [key, occurrences] : book.failures()) rows.emplace_back(&key, occurrences);
  // The map is already in key order, so a stable sort by count keeps ties in key order.
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return rows;
}

std::vector<const stats::ExceptionRecord*> exceptions_by_count(const stats::StatsBook& book) {
  std::vector<const stats::ExceptionRecord*> rows;
  rows.reserve(book.exceptions().size());
  for (const auto& [key, record] : book.exceptions()) rows.push_back(&record);
  std::stable_sort(rows.begin(), rows.end(), [](const auto* a, const auto* b) { return a->count > b->count; });
  return rows;
}

}  // namespace cicada::report
