#include "runtime/report/history.h"

namespace cicada::report {

void RecentResponseTimes::add(const stats::StatsBook& delta) {
  total_.pending.merge(delta.total());
  if (!per_entry_) return;
  delta.for_each_entry([this](const stats::EntryKey& key, const stats::EntryStats& entry) {
    entries_[key].pending.merge(entry);
  });
}

void RecentResponseTimes::close(Seconds& seconds) {
  seconds.closed.push_back(std::move(seconds.pending));
  seconds.pending = stats::EntryStats{};
  while (seconds.closed.size() > static_cast<std::size_t>(kWindowSeconds)) seconds.closed.pop_front();
}

void RecentResponseTimes::close_second() {
  close(total_);
  for (auto& [key, seconds] : entries_) close(seconds);
}

void RecentResponseTimes::clear() {
  total_ = Seconds{};
  entries_.clear();
}

stats::EntryStats RecentResponseTimes::window(const stats::EntryKey* key) const {
  stats::EntryStats merged;
  const Seconds* seconds = &total_;
  if (key) {
    const auto it = entries_.find(*key);
    if (it == entries_.end()) return merged;
    seconds = &it->second;
  }
  for (const stats::EntryStats& second : seconds->closed) merged.merge(second);
  return merged;
}

}  // namespace cicada::report
